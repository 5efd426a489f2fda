package uk.co.tradersflow.audit;

import io.vertx.core.Future;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;
import java.util.List;
import java.util.UUID;
import java.util.function.Function;
import java.util.function.IntFunction;
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

    // Several entries in one statement, in the order given: identities are drawn as the rows are
    // inserted, so the entries keep that order in the log and in the chain.
    private static final String INSERT_ALL =
            """
      INSERT INTO audit_log (account_id, actor_type, actor_id, impersonator_id, action, target_type, target_id,
                             ip, user_agent, details)
      SELECT e.account_id, e.actor_type, e.actor_id, e.impersonator_id, e.action, e.target_type, e.target_id,
             e.ip::inet, e.user_agent, e.details
        FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::text[], $8::text[],
                    $9::text[], $10::jsonb[]) WITH ORDINALITY
             AS e(account_id, actor_type, actor_id, impersonator_id, action, target_type, target_id, ip, user_agent,
                  details, ord)
       ORDER BY e.ord""";

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

    /**
     * Appends {@code entries} in {@code tx} with one statement, in their order (a batch of
     * creations' entries: one statement instead of one each); as {@link #append} once it commits.
     */
    public Future<Void> appendAll(Tx tx, List<AuditEntry> entries) {
        if (entries.isEmpty()) {
            return Future.succeededFuture();
        }
        if (entries.size() == 1) {
            return append(tx, entries.get(0));
        }
        Tuple args = Tuple.tuple()
                .addArrayOfUUID(column(entries, e -> e.accountId().orElse(null), UUID[]::new))
                .addArrayOfString(column(entries, e -> e.actorType().dbValue(), String[]::new))
                .addArrayOfUUID(column(entries, e -> e.actorId().orElse(null), UUID[]::new))
                .addArrayOfUUID(column(entries, e -> e.impersonatorId().orElse(null), UUID[]::new))
                .addArrayOfString(column(entries, AuditEntry::action, String[]::new))
                .addArrayOfString(column(entries, e -> e.targetType().orElse(null), String[]::new))
                .addArrayOfString(column(entries, e -> e.targetId().orElse(null), String[]::new))
                .addArrayOfString(column(entries, e -> e.ip().orElse(null), String[]::new))
                .addArrayOfString(column(entries, e -> e.userAgent().orElse(null), String[]::new))
                .addArrayOfJsonObject(column(entries, AuditEntry::details, JsonObject[]::new));
        tx.afterCommit(nudge);
        return tx.preparedQuery(INSERT_ALL).execute(args).mapEmpty();
    }

    private static <T> T[] column(List<AuditEntry> entries, Function<AuditEntry, T> field, IntFunction<T[]> array) {
        return entries.stream().map(field).toArray(array);
    }
}
