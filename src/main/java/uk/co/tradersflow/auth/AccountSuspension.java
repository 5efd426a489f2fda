package uk.co.tradersflow.auth;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import java.util.Optional;
import java.util.UUID;
import uk.co.tradersflow.audit.AuditEntry;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.db.Tx;
import uk.co.tradersflow.platform.security.ActorType;

/**
 * Suspends an account for incident containment (a hijacked account sending fraudulent invoices,
 * an account abusing the platform), or lifts the suspension. A suspended account's tokens are
 * answered 403 {@code account_suspended} within the session cache's one-second window and its
 * users cannot sign in; nothing is deleted, so lifting it restores everything. Audited.
 */
public final class AccountSuspension {
    private static final String SET_STATUS =
            """
      UPDATE accounts SET status = $2, updated_at = now() WHERE id = $1 AND status = $3 RETURNING id""";

    /** A status change: allowed only {@code from} that status, audited as {@code action}. */
    private record Transition(String from, String to, String action) {}

    private static final Transition SUSPEND = new Transition("active", "suspended", "account_suspended");
    private static final Transition RESUME = new Transition("suspended", "active", "account_resumed");

    private final Pool pool;
    private final AuditLog audit;

    public AccountSuspension(Pool pool, AuditLog audit) {
        this.pool = pool;
        this.audit = audit;
    }

    /** True when the account was active and is now suspended; false when it was not active (or does not exist). */
    public Future<Boolean> suspend(UUID accountId, String reason, ActorType actor, Optional<UUID> actorId) {
        return change(accountId, SUSPEND, reason, actor, actorId);
    }

    /** True when the account was suspended and is active again. */
    public Future<Boolean> resume(UUID accountId, String reason, ActorType actor, Optional<UUID> actorId) {
        return change(accountId, RESUME, reason, actor, actorId);
    }

    /**
     * {@link #suspend}, inside a unit of work the caller holds, scoped to {@code accountId}
     * ({@code Db.inAccount}): the admin area's suspend action, as the owner.
     */
    public static Future<Boolean> suspend(
            Tx tx, AuditLog audit, UUID accountId, String reason, ActorType actor, Optional<UUID> actorId) {
        return change(tx, audit, accountId, SUSPEND, reason, actor, actorId);
    }

    /** {@link #resume}, inside a unit of work the caller holds, scoped to {@code accountId}. */
    public static Future<Boolean> resume(
            Tx tx, AuditLog audit, UUID accountId, String reason, ActorType actor, Optional<UUID> actorId) {
        return change(tx, audit, accountId, RESUME, reason, actor, actorId);
    }

    private Future<Boolean> change(
            UUID accountId, Transition t, String reason, ActorType actor, Optional<UUID> actorId) {
        return Db.transaction(pool, tx -> change(tx, audit, accountId, t, reason, actor, actorId));
    }

    private static Future<Boolean> change(
            Tx tx,
            AuditLog audit,
            UUID accountId,
            Transition t,
            String reason,
            ActorType actor,
            Optional<UUID> actorId) {
        return tx.preparedQuery(SET_STATUS)
                .execute(Tuple.of(accountId, t.to(), t.from()))
                .compose(rows -> {
                    if (rows.rowCount() == 0) {
                        return Future.succeededFuture(false);
                    }
                    return audit.append(
                                    tx,
                                    AuditEntry.by(actor, actorId, Optional.of(accountId), t.action())
                                            .detail("reason", reason))
                            .map(v -> true);
                });
    }
}
