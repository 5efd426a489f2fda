package uk.co.tradersflow.auth;

import io.vertx.core.Future;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import uk.co.tradersflow.audit.AuditEntry;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.platform.bus.SessionRevoked;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.http.ClientInfo;
import uk.co.tradersflow.platform.metrics.SecurityEvents;
import uk.co.tradersflow.platform.security.Actor;
import uk.co.tradersflow.platform.security.ActorType;
import uk.co.tradersflow.platform.security.Principal;

/**
 * A session after it is opened: the rotating refresh (a stolen token, used twice, ends its whole
 * family), and its end, here or on every device of the user.
 */
public final class SessionService {
    public record Refresh(String refreshToken, ClientInfo.Client client) {
        @Override
        public String toString() {
            return "Refresh[]";
        }
    }

    private final Db db;
    private final SignInRepository repo;
    private final SessionIssuer sessions;
    private final SealedTokens sealed;
    private final AuditLog audit;
    private final SessionRevocations revocations;
    private final Duration reuseGrace;
    private final Clock clock;

    SessionService(
            Db db,
            SignInRepository repo,
            SessionIssuer sessions,
            SealedTokens sealed,
            AuditLog audit,
            SessionRevocations revocations,
            Duration reuseGrace,
            Clock clock) {
        this.db = db;
        this.repo = repo;
        this.sessions = sessions;
        this.sealed = sealed;
        this.audit = audit;
        this.revocations = revocations;
        this.reuseGrace = reuseGrace;
        this.clock = clock;
    }

    // ------------------------------------------------------------------------------------ refresh

    /**
     * Rotates a refresh token: its successor and a fresh access token, or the family ended if it was
     * stolen. One statement decides and rotates (sql/V044); the successor is chosen and sealed before
     * it, so that statement needs no answer from the server in between.
     */
    public Future<SessionTokens> refresh(Refresh cmd) {
        byte[] hash = SecretTokens.hash(cmd.refreshToken());
        String successor = SecretTokens.generate(SessionIssuer.REFRESH_PREFIX);
        return repo.rotateRefreshToken(
                        hash,
                        clock.instant(),
                        UUID.randomUUID(),
                        sealed.seal(successor, hash),
                        SecretTokens.hash(successor),
                        sessions.refreshTtl())
                .compose(found -> {
                    if (found.isPresent() && found.get().rotated()) {
                        return Future.succeededFuture(pair(found.get().row(), successor));
                    }
                    if (found.isEmpty()
                            || !found.get().row().sessionLive()
                            || found.get().row().expiresAt().isBefore(clock.instant())) {
                        return Future.failedFuture(invalidToken());
                    }
                    SignInRepository.RefreshRow row = found.get().row();
                    // A suspended account's sessions stay (reinstating brings them back) but open nothing meanwhile.
                    if (row.accountSuspended()) {
                        return Future.failedFuture(
                                AppError.of(ErrorCode.ACCOUNT_SUSPENDED, "This account is suspended"));
                    }
                    // Unspent yet not rotated: the database judged it expired at the same instant, rounded to
                    // microseconds.
                    return row.spentAt().isPresent()
                            ? reuse(row, hash, cmd.client())
                            : Future.failedFuture(invalidToken());
                });
    }

    private static AppError invalidToken() {
        return AppError.of(ErrorCode.INVALID_TOKEN, "The refresh token is invalid or expired; sign in again");
    }

    /**
     * A spent token (this request lost a race, or it is a retry or a replay): within the grace period
     * it answers its successor again; after it, the family is revoked.
     */
    private Future<SessionTokens> reuse(SignInRepository.RefreshRow row, byte[] hash, ClientInfo.Client client) {
        boolean inGrace = row.spentAt().orElseThrow().plus(reuseGrace).isAfter(clock.instant());
        if (inGrace && row.successorSealed().isPresent()) {
            return Future.succeededFuture(
                    pair(row, successorOf(row, row.successorSealed().get(), hash)));
        }
        SecurityEvents.record(SecurityEvents.Event.REFRESH_REUSE);
        return db.inAccount(row.accountId(), tx -> SignInRepository.revokeSession(
                                tx, row.sessionId(), "refresh_token_reuse")
                        .compose(v -> audit.append(
                                tx,
                                // A support session's reuse is the staff member's session's: impersonatedBy stays on
                                // it.
                                AuditEntry.by(
                                                new Actor(
                                                        ActorType.USER,
                                                        Optional.of(row.userId()),
                                                        row.impersonatorId()),
                                                Optional.of(row.accountId()),
                                                "auth.refresh_reuse")
                                        .target("user", row.userId())
                                        .from(client)
                                        .detail("sessionId", row.sessionId().toString()))))
                .compose(v -> revocations.publish(SessionRevoked.session(row.sessionId())))
                .compose(v -> Future.failedFuture(AppError.of(
                        ErrorCode.INVALID_TOKEN,
                        "This refresh token was already used; the session has been ended for safety")));
    }

    /**
     * The sealed successor of spent token {@code row}, presented as the token hashed to {@code hash}.
     * A successor sealed before V044 is bound to the row's id instead: such rows can be met only
     * within the grace period after the upgrade, by a retry of a refresh the previous release
     * answered.
     */
    private String successorOf(SignInRepository.RefreshRow row, byte[] successorSealed, byte[] hash) {
        try {
            return sealed.open(successorSealed, hash);
        } catch (IllegalStateException boundToTheRow) {
            return sealed.open(successorSealed, row.id().toString().getBytes(StandardCharsets.UTF_8));
        }
    }

    private SessionTokens pair(SignInRepository.RefreshRow row, String refreshToken) {
        return SessionTokens.of(
                new SessionIssuer.Issued(
                        row.sessionId(),
                        sessions.accessFor(row.userId(), row.accountId(), row.sessionId(), row.impersonatorId()),
                        refreshToken),
                sessions.accessTtl(),
                Optional.empty());
    }

    // ------------------------------------------------------------------------------------ sign-out

    /** Ends the caller's own session. */
    public Future<Void> signOut(Principal me, ClientInfo.Client client) {
        return db.inAccount(me.accountId(), tx -> SignInRepository.revokeSession(tx, me.sessionId(), "logout")
                        .compose(v -> audit.append(
                                tx,
                                AuditEntry.byUser(me, client, "logout")
                                        .detail("sessionId", me.sessionId().toString()))))
                .compose(v -> revocations.publish(SessionRevoked.session(me.sessionId())));
    }

    /** Ends every session of the caller, and the signed file URLs handed out under them. */
    public Future<Void> signOutEverywhere(Principal me, ClientInfo.Client client) {
        return db.inAccount(me.accountId(), tx -> SignInRepository.revokeUserSessions(
                                tx, me.userId(), Optional.empty(), "logout_all")
                        .compose(n -> SignInRepository.bumpFileUrlEpoch(tx, me.accountId())
                                .compose(v -> audit.append(
                                        tx,
                                        AuditEntry.byUser(me, client, "logout_all")
                                                .detail("sessions", n)))))
                .compose(v -> revocations.publish(SessionRevoked.user(me.userId())));
    }
}
