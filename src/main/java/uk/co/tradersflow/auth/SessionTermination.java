package uk.co.tradersflow.auth;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import uk.co.tradersflow.audit.AuditEntry;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.security.ActorType;

/**
 * Ends sessions for incident containment: every session of one user (a stolen password or
 * device), or every session on the platform (a leaked signing key, a compromised host). A
 * revoked session's access tokens are refused within the session cache's one-second window on
 * every instance, and its refresh tokens at once, so everyone affected must sign in again.
 * Audited per account, or once for the whole platform.
 *
 * <p>It works across accounts, so it runs on a connection that may: the operator's admin login
 * (the {@code end-sessions} command) or, later, the owners' admin area's.
 */
public final class SessionTermination {
    static final String REASON = "incident";

    private static final String END_FOR_USER =
            """
      UPDATE sessions SET revoked_at = now(), revoked_reason = $2
       WHERE revoked_at IS NULL AND user_id IN (SELECT id FROM users WHERE email = $1)
      RETURNING account_id""";
    private static final String END_ALL =
            """
      UPDATE sessions SET revoked_at = now(), revoked_reason = $1 WHERE revoked_at IS NULL""";

    private final Pool pool;
    private final AuditLog audit;

    public SessionTermination(Pool pool, AuditLog audit) {
        this.pool = pool;
        this.audit = audit;
    }

    /** Ends every live session of the user with this email; how many there were (0 for an unknown email). */
    public Future<Integer> endForUser(String email, ActorType actor, Optional<UUID> actorId) {
        String normalised = email.trim().toLowerCase(Locale.ROOT);
        return Db.transaction(pool, tx -> tx.preparedQuery(END_FOR_USER)
                .execute(Tuple.of(normalised, REASON))
                .compose(rows -> {
                    Map<UUID, Integer> perAccount = new LinkedHashMap<>();
                    for (Row row : rows) {
                        perAccount.merge(row.getUUID("account_id"), 1, Integer::sum);
                    }
                    Future<Void> chain = Future.succeededFuture();
                    for (Map.Entry<UUID, Integer> e : perAccount.entrySet()) {
                        AuditEntry entry = AuditEntry.by(actor, actorId, Optional.of(e.getKey()), "sessions_ended")
                                .target("user_email", normalised)
                                .detail("sessions", e.getValue())
                                .detail("reason", REASON);
                        chain = chain.compose(v -> audit.append(tx, entry));
                    }
                    return chain.map(v -> rows.rowCount());
                }));
    }

    /** Ends every live session of every user; how many there were. One platform-wide audit entry. */
    public Future<Integer> endAll(ActorType actor, Optional<UUID> actorId) {
        return Db.transaction(
                pool, tx -> tx.preparedQuery(END_ALL).execute(Tuple.of(REASON)).compose(rows -> {
                    AuditEntry entry = AuditEntry.by(actor, actorId, Optional.empty(), "sessions_ended")
                            .target("platform", "all")
                            .detail("sessions", rows.rowCount())
                            .detail("reason", REASON);
                    return audit.append(tx, entry).map(v -> rows.rowCount());
                }));
    }
}
