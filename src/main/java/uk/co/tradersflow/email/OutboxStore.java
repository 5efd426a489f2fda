package uk.co.tradersflow.email;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.db.Rows;
import uk.co.tradersflow.platform.http.PageRequest;

/**
 * The dispatcher's view of the outbox, across accounts (as {@code tf_worker}). Claims use
 * {@code FOR UPDATE SKIP LOCKED} and a short lease that the claiming dispatcher renews while it
 * works, so any number of dispatchers on any number of instances share the work, no row is sent
 * by two at once, and the rows of a dispatcher that dies are claimed again as soon as its lease
 * runs out (at least once, never lost).
 *
 * <p>Two clocks, on purpose: leases are database time ({@code now()}), because they measure
 * whether another instance is still alive and every instance must read them alike; when a row is
 * due ({@code next_attempt_at}) is the server's clock, passed in, so retry schedules can be tested
 * over hours without waiting hours.
 */
final class OutboxStore {
    // Oldest first (by when due, then by creation), and handed back in that order: the dispatcher
    // sends one recipient's messages one after another, in the order they were written.
    private static final String CLAIM =
            """
      WITH due AS MATERIALIZED (SELECT id FROM email_outbox
                                 WHERE (status = 'queued' AND next_attempt_at <= $3)
                                    OR (status = 'sending' AND lease_until < now())
                                 ORDER BY next_attempt_at, created_at
                                 LIMIT $1
                                 FOR UPDATE SKIP LOCKED),
           claimed AS (UPDATE email_outbox o
                          SET status = 'sending', claims = o.claims + 1, lease_until = now() + $2 * interval '1 millisecond',
                              updated_at = now()
                         FROM due WHERE o.id = due.id
                       RETURNING o.id, o.template, o.recipient, o.model, o.attempts, o.claims, o.next_attempt_at, o.created_at)
      SELECT id, template, recipient, model, attempts, claims FROM claimed ORDER BY next_attempt_at, created_at""";

    private static final String SUPPRESSED = "SELECT address FROM email_suppressions WHERE address = ANY($1)";

    // Every outcome names the claim it belongs to: a dispatcher whose lease expired and whose row
    // was claimed again cannot overwrite the newer claim's state. Each runs in its own transaction,
    // committed the moment SMTP answers, so a crash right after a 250 cannot send that row again.
    // Once sent, the model goes: it may hold single-use links (password reset, email change).
    private static final String SENT =
            """
      UPDATE email_outbox SET status = 'sent', sent_at = now(), lease_until = NULL, smtp_response = $2, attempts = attempts + 1,
             provider_id = $3, last_error = NULL, model = '{}'::jsonb, updated_at = now()
       WHERE id = $1 AND status = 'sending' AND claims = $4""";

    // A failure of this message: it spends an attempt. A message failed for good keeps its model,
    // so that an owner can requeue it once the cause is fixed (its links expire on their own).
    private static final String RETRY =
            """
      UPDATE email_outbox SET status = CASE WHEN attempts + 1 >= $3 THEN 'failed' ELSE 'queued' END, attempts = attempts + 1,
             next_attempt_at = $6::timestamptz + $4 * interval '1 millisecond', lease_until = NULL, last_error = $2, updated_at = now()
       WHERE id = $1 AND status = 'sending' AND claims = $5
      RETURNING status""";

    // The mail server, not the message, failed (unreachable, busy): the row goes back to the queue
    // with its attempts untouched, for when the server is back: in its place when the whole server
    // failed ($4 null), so the queue keeps its order; behind the rows already due ($4 now) when the
    // server put off this message alone (a 4xx for its recipient), so it cannot hold up the rest.
    private static final String RELEASE =
            """
      UPDATE email_outbox SET status = 'queued', next_attempt_at = coalesce($4::timestamptz, next_attempt_at), lease_until = NULL,
             last_error = $2, updated_at = now()
       WHERE id = $1 AND status = 'sending' AND claims = $3""";

    private static final String SUPPRESS =
            """
      UPDATE email_outbox SET status = 'suppressed', lease_until = NULL, last_error = $2, model = '{}'::jsonb, updated_at = now()
       WHERE id = $1 AND status = 'sending' AND claims = $3""";

    private static final String HOLD =
            """
      UPDATE email_outbox SET lease_until = now() + $2 * interval '1 millisecond', last_error = $3, updated_at = now()
       WHERE id = $1 AND status = 'sending' AND claims = $4""";

    private static final String RENEW =
            """
      UPDATE email_outbox o SET lease_until = now() + $3 * interval '1 millisecond'
        FROM unnest($1::uuid[], $2::int[]) AS c(id, claims)
       WHERE o.id = c.id AND o.claims = c.claims AND o.status = 'sending'""";

    private static final String STATUS_FOR_REQUEUE =
            "SELECT status, account_id FROM email_outbox WHERE id = $1 FOR UPDATE";
    private static final String REQUEUE =
            """
      UPDATE email_outbox SET status = 'queued', attempts = 0, next_attempt_at = now(), lease_until = NULL, updated_at = now()
       WHERE id = $1 AND status = 'failed'""";

    // The owners' log spans every account, each message with the provider's events about it.
    private static final String LOG =
            """
      SELECT o.id, o.account_id, o.template, o.recipient, o.status, o.attempts, o.last_error, o.created_at, o.sent_at,
             coalesce((SELECT json_agg(json_build_object('type', e.type, 'occurredAt', e.occurred_at) ORDER BY e.occurred_at)
                         FROM email_events e WHERE e.message_id = o.id), '[]'::json) AS events
        FROM email_outbox o
       WHERE (o.created_at, o.id) < ($1, $2)
         AND ($4::text IS NULL OR o.recipient = $4)
         AND ($5::text IS NULL OR o.status = $5)
       ORDER BY o.created_at DESC, o.id DESC
       LIMIT $3""";

    /** Everything not yet handed to the SMTP server, retries waiting for their backoff included. */
    private static final String BACKLOG =
            """
      SELECT count(*) AS depth, COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)::float8 AS oldest
        FROM email_outbox WHERE status IN ('queued', 'sending')""";

    /** How many messages wait, and how long the oldest has. */
    record Backlog(long depth, double oldestSeconds) {}

    private final Db db;

    OutboxStore(Db db) {
        this.db = db;
    }

    Future<List<OutboxMessage>> claim(int batch, Duration lease, Instant now) {
        return db.asWorker(tx -> tx.preparedQuery(CLAIM)
                .execute(Tuple.of(batch, lease.toMillis(), Rows.utc(now)))
                .map(rows -> Rows.all(rows, OutboxStore::message)));
    }

    Future<Set<String>> suppressedAmong(List<String> addresses) {
        if (addresses.isEmpty()) {
            return Future.succeededFuture(Set.of());
        }
        return db.asWorker(tx -> tx.preparedQuery(SUPPRESSED)
                .execute(Tuple.of(addresses.toArray(String[]::new)))
                .map(rows ->
                        Rows.all(rows, r -> r.getString("address")).stream().collect(Collectors.toSet())));
    }

    Future<Void> sent(OutboxMessage m, String smtpResponse, String providerId) {
        return db.asWorker(tx -> tx.preparedQuery(SENT)
                .execute(Tuple.of(m.id(), smtpResponse, providerId, m.claim()))
                .mapEmpty());
    }

    /** Records a failed attempt of this message; answers whether the row is now {@code failed} for good. */
    Future<Boolean> retryOrFail(OutboxMessage m, String error, int maxAttempts, Duration delay, Instant now) {
        return db.asWorker(tx -> tx.preparedQuery(RETRY)
                .execute(Tuple.of(m.id(), error, maxAttempts, delay.toMillis(), m.claim(), Rows.utc(now)))
                .map(rows -> rows.size() == 1
                        && "failed".equals(rows.iterator().next().getString("status"))));
    }

    /**
     * Gives the claim back without spending an attempt: the mail server failed, not the message.
     * With {@code behindFrom} the row queues behind those due by then; without, it keeps its place.
     */
    Future<Void> release(OutboxMessage m, String error, Optional<Instant> behindFrom) {
        return db.asWorker(tx -> tx.preparedQuery(RELEASE)
                .execute(Tuple.of(
                        m.id(), error, m.claim(), behindFrom.map(Rows::utc).orElse(null)))
                .mapEmpty());
    }

    Future<Void> suppressed(OutboxMessage m) {
        return db.asWorker(tx -> tx.preparedQuery(SUPPRESS)
                .execute(Tuple.of(m.id(), "recipient is on the suppression list", m.claim()))
                .mapEmpty());
    }

    /** Keeps the claim for {@code lease} more: a send whose outcome is not known yet must not be retried. */
    Future<Void> hold(OutboxMessage m, Duration lease, String why) {
        return db.asWorker(tx -> tx.preparedQuery(HOLD)
                .execute(Tuple.of(m.id(), lease.toMillis(), why, m.claim()))
                .mapEmpty());
    }

    /** The heartbeat: extends the leases of the claims (row id to claim number) this dispatcher is still working on. */
    Future<Void> renew(Map<UUID, Integer> claims, Duration lease) {
        UUID[] ids = claims.keySet().toArray(UUID[]::new);
        Integer[] numbers = java.util.Arrays.stream(ids).map(claims::get).toArray(Integer[]::new);
        return db.asWorker(tx -> tx.preparedQuery(RENEW)
                .execute(Tuple.of(ids, numbers, lease.toMillis()))
                .mapEmpty());
    }

    Future<Backlog> backlog() {
        return db.asWorker(tx -> tx.query(BACKLOG).execute())
                .map(rows -> Rows.one(rows, r -> new Backlog(r.getLong("depth"), r.getDouble("oldest"))));
    }

    /** A page of the log, newest first; read as the narrowly granted worker role, so only behind the owner check. */
    Future<List<EmailLogEntry>> log(EmailLogQuery query) {
        PageRequest page = query.page();
        Tuple args = Tuple.of(
                Rows.utc(page.afterCreatedAt()),
                page.afterId(),
                page.fetchSize(),
                query.recipient().orElse(null),
                query.status().orElse(null));
        return db.asWorker(tx -> tx.preparedQuery(LOG).execute(args)).map(rows -> Rows.all(rows, EmailLogEntry::from));
    }

    /** What a requeue found: no such row, a row not {@code failed} (left alone), or a failed row now queued. */
    enum Requeue {
        NOT_FOUND,
        NOT_FAILED,
        QUEUED
    }

    /** Queues a failed message again with its attempts reset; the caller's transaction also records who did it. */
    Future<RequeueResult> requeue(io.vertx.sqlclient.SqlConnection tx, UUID id) {
        return tx.preparedQuery(STATUS_FOR_REQUEUE).execute(Tuple.of(id)).compose(rows -> {
            if (rows.size() == 0) {
                return Future.succeededFuture(new RequeueResult(Requeue.NOT_FOUND, Optional.empty()));
            }
            Row row = rows.iterator().next();
            Optional<UUID> account = Optional.ofNullable(row.getUUID("account_id"));
            if (!"failed".equals(row.getString("status"))) {
                return Future.succeededFuture(new RequeueResult(Requeue.NOT_FAILED, account));
            }
            return tx.preparedQuery(REQUEUE).execute(Tuple.of(id)).map(new RequeueResult(Requeue.QUEUED, account));
        });
    }

    record RequeueResult(Requeue outcome, Optional<UUID> accountId) {}

    private static OutboxMessage message(Row r) {
        Object model = r.getValue("model");
        return new OutboxMessage(
                r.getUUID("id"),
                r.getString("template"),
                r.getString("recipient"),
                model instanceof JsonObject json ? json : new JsonObject(),
                r.getInteger("attempts"),
                r.getInteger("claims"));
    }
}
