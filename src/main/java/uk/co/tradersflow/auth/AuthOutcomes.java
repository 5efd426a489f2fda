package uk.co.tradersflow.auth;

import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgException;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import uk.co.tradersflow.audit.AuditEntry;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.error.FieldError;
import uk.co.tradersflow.platform.http.ClientInfo;
import uk.co.tradersflow.platform.security.ActorType;

/** The answers and audit entries the auth services share. */
final class AuthOutcomes {
    private AuthOutcomes() {}

    static AppError invalidCredentials() {
        return AppError.of(ErrorCode.INVALID_CREDENTIALS, "The email or password is not right");
    }

    static AppError invalidLink() {
        return AppError.validation(List.of(new FieldError("token", "is invalid, used or expired")));
    }

    static SignInRepository.LinkToken usable(Optional<SignInRepository.LinkToken> found) {
        if (found.isEmpty() || !found.get().usable()) {
            throw invalidLink();
        }
        return found.get();
    }

    /** What a user did before they had a session (signed up, signed in, followed a link), filed under them. */
    static AuditEntry userEntry(UUID accountId, UUID userId, ClientInfo.Client client, String action) {
        return new AuditEntry(
                Optional.of(accountId),
                ActorType.USER,
                Optional.of(userId),
                Optional.empty(),
                action,
                Optional.of("user"),
                Optional.of(userId.toString()),
                Optional.of(client.ip()),
                Optional.of(client.userAgent()),
                new JsonObject());
    }

    static boolean isUniqueViolation(Throwable e) {
        return e instanceof PgException pg && "23505".equals(pg.getSqlState());
    }

    /** The users table's own check (lower-case, trimmed) refused an address Java's rules let through. */
    static boolean isCheckViolation(Throwable e) {
        return e instanceof PgException pg && "23514".equals(pg.getSqlState());
    }
}
