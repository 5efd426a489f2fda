package uk.co.tradersflow.auth.oauth;

import io.vertx.core.Future;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import uk.co.tradersflow.audit.AuditEntry;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.http.ClientInfo;
import uk.co.tradersflow.platform.security.Principal;

/**
 * The signed-in user's linked providers: listing them, and unlinking one, which is refused (409
 * {@code last_sign_in_method}) when it would leave the user no way to sign in: no password and no
 * other identity. Unlinking is audited and mailed, like linking.
 */
public final class IdentityService {
    /** One linked identity, as its user sees it: the address the provider last gave for it. */
    public record Identity(
            String provider, Optional<String> email, boolean privateEmail, Instant linkedAt, Instant lastUsedAt) {}

    private final Db db;
    private final IdentityRepository repo;
    private final IdentityMails mails;
    private final AuditLog audit;

    IdentityService(Db db, IdentityRepository repo, IdentityMails mails, AuditLog audit) {
        this.db = db;
        this.repo = repo;
        this.mails = mails;
        this.audit = audit;
    }

    public Future<List<Identity>> identities(Principal p) {
        return repo.identities(p.accountId(), p.userId());
    }

    /** Unlinks the user's {@code provider} identity; 404 when there is none. */
    public Future<Void> unlink(Principal p, String provider, ClientInfo.Client client) {
        if (!Provider.NAMES.containsKey(provider)) {
            return Future.failedFuture(AppError.notFound());
        }
        return db.inAccount(p.accountId(), tx -> IdentityRepository.lockHolder(tx, p.userId())
                .compose(holder -> IdentityRepository.identities(tx, p.userId()).compose(linked -> {
                    var identity = linked.stream()
                            .filter(i -> i.provider().equals(provider))
                            .findFirst();
                    if (identity.isEmpty()) {
                        return Future.failedFuture(AppError.notFound());
                    }
                    if (!holder.hasPassword() && linked.size() == 1) {
                        return Future.failedFuture(AppError.of(
                                ErrorCode.LAST_SIGN_IN_METHOD,
                                Provider.nameOf(provider) + " is this account's only way to sign in: set a password "
                                        + "(through a reset link) or link another provider first"));
                    }
                    return IdentityRepository.unlink(tx, p.userId(), provider)
                            .compose(v -> audit.append(
                                    tx,
                                    AuditEntry.byUser(p, client, "identity.unlinked")
                                            .detail("provider", provider)))
                            .compose(v -> mails.changed(
                                    tx,
                                    IdentityMails.REMOVED,
                                    p.accountId(),
                                    p.userId(),
                                    holder.email(),
                                    provider,
                                    identity.get().email().orElse(holder.email())));
                })));
    }
}
