package uk.co.tradersflow.admin.actions;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.db.Rows;

/**
 * The stored actions ({@code admin_actions}, V031), reached as the worker role inside the
 * caller's unit of work, and the one read of the target account, scoped to that account.
 */
final class AdminActionsRepository {
    static final String INSERT =
            """
      INSERT INTO admin_actions (action, account_id, params, requested_by, token_hash)
      VALUES ($1, $2, $3, $4, $5)
      RETURNING id, expires_at""";

    /** The one statement that decides which confirmation performs the action. */
    static final String CLAIM =
            """
      UPDATE admin_actions SET status = 'performing', updated_at = now()
       WHERE id = $1 AND status = 'pending' AND expires_at > now() AND requested_by = $2 AND token_hash = $3
      RETURNING id, action, account_id, params, requested_by""";

    /** Why a claim failed: read after it, never instead of it. */
    static final String FIND =
            """
      SELECT id, action, account_id, params, requested_by, status, expires_at <= now() AS past_deadline,
             token_hash = $2 AS token_matches
        FROM admin_actions WHERE id = $1""";

    static final String EXPIRE_ONE =
            """
      UPDATE admin_actions SET status = 'expired', updated_at = now()
       WHERE id = $1 AND status = 'pending' AND expires_at <= now()
      RETURNING id""";

    /**
     * Up to $1 expired actions, each locked by the subquery (which re-checks its conditions on a
     * row changed since the statement began). An array computed once, not {@code IN (SELECT …
     * LIMIT …)}, which PostgreSQL may run again for every row it joins against, taking more than
     * the limit (see StripeEventStore's claim).
     */
    static final String EXPIRE_DUE =
            """
      UPDATE admin_actions SET status = 'expired', updated_at = now()
       WHERE id = ANY (ARRAY(SELECT id FROM admin_actions WHERE status = 'pending' AND expires_at <= now()
                              ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED))
      RETURNING id, action, account_id, params, requested_by""";

    /**
     * Actions left performing by an instance that stopped mid-way (a crash, a kill): after
     * {@code $2} seconds, far beyond any Stripe call's deadline, they are failed, not left
     * performing for ever. Their outcome is unknown, which the result says.
     */
    static final String FAIL_STALLED =
            """
      UPDATE admin_actions
         SET status = 'failed', updated_at = now(),
             result = jsonb_build_object('code', 'interrupted', 'detail',
                 'The instance performing it stopped before recording the outcome; check the account '
                 || '(and Stripe) before requesting it again')
       WHERE id = ANY (ARRAY(SELECT id FROM admin_actions
                              WHERE status = 'performing' AND updated_at < now() - make_interval(secs => $2)
                              ORDER BY updated_at LIMIT $1 FOR UPDATE SKIP LOCKED))
      RETURNING id, action, account_id, params, requested_by""";

    static final String FINISH =
            """
      UPDATE admin_actions SET status = $2, result = $3, updated_at = now()
       WHERE id = $1 AND status = 'performing'""";

    /** An attempt whose outcome is unknown (Stripe did not answer) may be confirmed again with the same token. */
    static final String RELEASE =
            """
      UPDATE admin_actions SET status = 'pending', updated_at = now()
       WHERE id = $1 AND status = 'performing'""";

    /** The target account as its own scope shows it: RLS lets the statement see that account and no other. */
    static final String TARGET =
            """
      SELECT a.business_name, a.status, b.stripe_customer_id, b.subscription_id,
             ARRAY(SELECT u.email FROM users u WHERE u.account_id = a.id ORDER BY u.created_at) AS emails
        FROM accounts a LEFT JOIN billing_accounts b ON b.account_id = a.id
       WHERE a.id = $1""";

    /** A stored action as a confirmation sees it. */
    record Stored(UUID id, AdminAction action, Optional<UUID> accountId, JsonObject params, UUID requestedBy) {}

    /** What a failed claim found: the action (if any), its state, and whether the token was its own. */
    record Found(Stored action, String status, boolean pastDeadline, boolean tokenMatches) {}

    /** The account an action targets, as it is now. */
    record Target(
            UUID accountId,
            String businessName,
            String status,
            Optional<String> stripeCustomerId,
            Optional<String> subscriptionId,
            List<String> emails) {}

    private final Db db;

    AdminActionsRepository(Db db) {
        this.db = db;
    }

    Future<Optional<Target>> target(UUID accountId) {
        return db.readInAccount(accountId, c -> c.preparedQuery(TARGET).execute(Tuple.of(accountId)))
                .map(rows -> rows.size() == 0
                        ? Optional.empty()
                        : Optional.of(Rows.one(
                                rows,
                                r -> new Target(
                                        accountId,
                                        r.getString("business_name"),
                                        r.getString("status"),
                                        Optional.ofNullable(r.getString("stripe_customer_id")),
                                        Optional.ofNullable(r.getString("subscription_id")),
                                        Arrays.asList(r.getArrayOfStrings("emails"))))));
    }

    /** Stores a pending action; its id and deadline. */
    static Future<Row> insert(
            SqlClient tx,
            AdminAction action,
            Optional<UUID> accountId,
            JsonObject params,
            UUID requestedBy,
            byte[] tokenHash) {
        return tx.preparedQuery(INSERT)
                .execute(Tuple.tuple()
                        .addString(action.wire())
                        .addUUID(accountId.orElse(null))
                        .addValue(params)
                        .addUUID(requestedBy)
                        .addBuffer(Buffer.buffer(tokenHash)))
                .map(rows -> rows.iterator().next());
    }

    static Future<Optional<Stored>> claim(SqlClient tx, UUID id, UUID requestedBy, byte[] tokenHash) {
        return tx.preparedQuery(CLAIM)
                .execute(Tuple.of(id, requestedBy, Buffer.buffer(tokenHash)))
                .map(rows -> rows.size() == 0
                        ? Optional.empty()
                        : Optional.of(stored(rows.iterator().next())));
    }

    static Future<Optional<Found>> find(SqlClient tx, UUID id, byte[] tokenHash) {
        return tx.preparedQuery(FIND)
                .execute(Tuple.of(id, Buffer.buffer(tokenHash)))
                .map(rows -> {
                    if (rows.size() == 0) {
                        return Optional.empty();
                    }
                    Row r = rows.iterator().next();
                    return Optional.of(new Found(
                            stored(r),
                            r.getString("status"),
                            r.getBoolean("past_deadline"),
                            r.getBoolean("token_matches")));
                });
    }

    /** True when this call moved the pending, overdue action to expired (so the expiry is recorded once). */
    static Future<Boolean> expire(SqlClient tx, UUID id) {
        return tx.preparedQuery(EXPIRE_ONE).execute(Tuple.of(id)).map(rows -> rows.size() == 1);
    }

    static Future<List<Stored>> expireDue(SqlClient tx, int limit) {
        return tx.preparedQuery(EXPIRE_DUE)
                .execute(Tuple.of(limit))
                .map(rows -> Rows.all(rows, AdminActionsRepository::stored));
    }

    static Future<List<Stored>> failStalled(SqlClient tx, int limit, java.time.Duration after) {
        return tx.preparedQuery(FAIL_STALLED)
                .execute(Tuple.of(limit, (double) after.toSeconds()))
                .map(rows -> Rows.all(rows, AdminActionsRepository::stored));
    }

    static Future<Void> finish(SqlClient tx, UUID id, String status, JsonObject result) {
        return tx.preparedQuery(FINISH).execute(Tuple.of(id, status, result)).mapEmpty();
    }

    static Future<Void> release(SqlClient tx, UUID id) {
        return tx.preparedQuery(RELEASE).execute(Tuple.of(id)).mapEmpty();
    }

    static Instant expiresAt(Row inserted) {
        return Rows.instant(inserted, "expires_at");
    }

    private static Stored stored(Row r) {
        Object params = r.getValue("params");
        return new Stored(
                r.getUUID("id"),
                AdminAction.fromWire(r.getString("action")),
                Optional.ofNullable(r.getUUID("account_id")),
                params instanceof JsonObject o ? o : new JsonObject(),
                r.getUUID("requested_by"));
    }
}
