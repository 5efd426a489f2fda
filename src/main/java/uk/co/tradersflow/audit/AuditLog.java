package uk.co.tradersflow.audit;

import io.vertx.core.Future;
import io.vertx.core.eventbus.EventBus;
import io.vertx.sqlclient.Tuple;
import uk.co.tradersflow.platform.bus.Addresses;
import uk.co.tradersflow.platform.bus.Signal;
import uk.co.tradersflow.platform.db.Tx;

/**
 * Appends audit entries inside the caller's transaction, so an entry exists exactly when the
 * action it records committed. Entries are sealed into the hash chain afterwards by
 * {@link AuditSealerVerticle}, which the transaction's commit wakes; appending never waits for the
 * chain.
 */
public final class AuditLog {
    private static final String INSERT =
            """
      INSERT INTO audit_log (account_id, actor_type, actor_id, impersonator_id, action, target_type, target_id,
                             ip, user_agent, details)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text::inet, $9, $10)""";

    /** One instance, so a transaction that appends many entries wakes the sealer once. */
    private final Runnable nudge;

    public AuditLog(EventBus bus) {
        this.nudge = () -> bus.publish(Addresses.AUDIT_APPENDED, Signal.INSTANCE);
    }

    /** Appends {@code e} in {@code tx}; once it commits, the sealer is woken to chain it promptly. */
    public Future<Void> append(Tx tx, AuditEntry e) {
        Tuple args = Tuple.tuple()
                .addUUID(e.accountId().orElse(null))
                .addString(e.actorType().dbValue())
                .addUUID(e.actorId().orElse(null))
                .addUUID(e.impersonatorId().orElse(null))
                .addString(e.action())
                .addString(e.targetType().orElse(null))
                .addString(e.targetId().orElse(null))
                .addString(e.ip().orElse(null))
                .addString(e.userAgent().orElse(null))
                .addValue(e.details());
        tx.afterCommit(nudge);
        return tx.preparedQuery(INSERT).execute(args).mapEmpty();
    }
}
