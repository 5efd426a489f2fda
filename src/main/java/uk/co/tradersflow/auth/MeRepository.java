package uk.co.tradersflow.auth;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import uk.co.tradersflow.auth.MeService.Activity;
import uk.co.tradersflow.auth.MeService.Me;
import uk.co.tradersflow.auth.MeService.Session;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.db.Rows;
import uk.co.tradersflow.platform.db.ScopedRead;

/** {@code /api/v1/me}'s reads (who am I, my sessions, my activity) and ending one of my sessions. */
final class MeRepository {
    /** One statement (sql/V043), pipelined beside other requests' reads, as the list pages are. */
    private static final ScopedRead ME = ScopedRead.of(
            "me_read",
            1,
            "user_id, email, email_verified, account_id, business_name, status, subscription_status, trial_end, "
                    + "current_period_end");

    private static final String SESSIONS =
            """
      SELECT id, created_at, last_used_at, user_agent, host(ip) AS ip FROM sessions
       WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now()
       ORDER BY last_used_at DESC""";
    private static final String ACTIVITY =
            """
      SELECT id, action, occurred_at, host(ip) AS ip, user_agent, details FROM audit_log
       WHERE id < $1 ORDER BY id DESC LIMIT $2""";
    private static final String END_SESSION =
            """
      UPDATE sessions SET revoked_at = now(), revoked_reason = 'ended_by_user' WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL""";

    private final Db db;

    MeRepository(Db db) {
        this.db = db;
    }

    Future<Me> me(UUID accountId, UUID userId) {
        return db.read(ME, accountId, Tuple.of(userId))
                .map(rows -> Rows.one(
                        rows,
                        r -> new Me(
                                r.getUUID("user_id"),
                                r.getString("email"),
                                r.getBoolean("email_verified"),
                                r.getUUID("account_id"),
                                r.getString("business_name"),
                                r.getString("status"),
                                r.getString("subscription_status"),
                                Rows.optionalInstant(r, "trial_end"),
                                Rows.optionalInstant(r, "current_period_end"))));
    }

    /** The user's live sessions, most recently used first. */
    Future<List<Session>> sessions(UUID accountId, UUID userId) {
        return db.readInAccount(accountId, tx -> tx.preparedQuery(SESSIONS).execute(Tuple.of(userId)))
                .map(rows -> Rows.all(
                        rows,
                        r -> new Session(
                                r.getUUID("id"),
                                Rows.instant(r, "created_at"),
                                Rows.instant(r, "last_used_at"),
                                r.getString("user_agent"),
                                r.getString("ip"))));
    }

    /** Up to {@code limit} of the account's audit entries older than entry {@code before}, newest first. */
    Future<List<Activity>> activity(UUID accountId, long before, int limit) {
        return db.readInAccount(accountId, tx -> tx.preparedQuery(ACTIVITY).execute(Tuple.of(before, limit)))
                .map(rows -> {
                    List<Activity> items = new ArrayList<>(rows.size());
                    for (Row r : rows) {
                        Object details = r.getValue("details");
                        items.add(new Activity(
                                r.getLong("id"),
                                r.getString("action"),
                                Rows.instant(r, "occurred_at"),
                                r.getString("ip"),
                                r.getString("user_agent"),
                                details instanceof JsonObject json ? json : new JsonObject()));
                    }
                    return items;
                });
    }

    /** Ends one live session of the user; false when the user has no such live session. */
    static Future<Boolean> endSession(SqlConnection tx, UUID sessionId, UUID userId) {
        return tx.preparedQuery(END_SESSION)
                .execute(Tuple.of(sessionId, userId))
                .map(rows -> rows.rowCount() == 1);
    }
}
