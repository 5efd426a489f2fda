package uk.co.tradersflow.email;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import uk.co.tradersflow.data.common.Rows;
import uk.co.tradersflow.platform.db.Db;

/**
 * The dispatcher's view of the outbox, across accounts (as {@code tf_worker}). Claims use
 * {@code FOR UPDATE SKIP LOCKED} and a lease, so any number of dispatchers on any number of
 * instances share the work and no row is sent by two at once; a dispatcher that dies
 * mid-send leaves a lease that expires, and the row is claimed again (at least once, never lost).
 */
final class OutboxStore {
  private static final String CLAIM = """
      UPDATE email_outbox o
         SET status = 'sending', attempts = o.attempts + 1, lease_until = now() + $2 * interval '1 millisecond', updated_at = now()
       WHERE o.id IN (SELECT id FROM email_outbox
                       WHERE (status = 'queued' AND next_attempt_at <= now())
                          OR (status = 'sending' AND lease_until < now())
                       ORDER BY next_attempt_at
                       LIMIT $1
                       FOR UPDATE SKIP LOCKED)
      RETURNING o.id, o.template, o.recipient, o.model, o.attempts""";

  private static final String SUPPRESSED = "SELECT address FROM email_suppressions WHERE address = ANY($1)";

  // Every outcome names the claim it belongs to (the attempt number the claim set): a dispatcher
  // whose lease expired and whose row was claimed again cannot overwrite the newer claim's state.
  // Once sent, the model goes: it may hold single-use links (password reset, email change).
  private static final String SENT = """
      UPDATE email_outbox SET status = 'sent', sent_at = now(), lease_until = NULL, smtp_response = $2,
             provider_id = $3, last_error = NULL, model = '{}'::jsonb, updated_at = now()
       WHERE id = $1 AND status = 'sending' AND attempts = $4""";

  private static final String RETRY = """
      UPDATE email_outbox SET status = CASE WHEN attempts >= $3 THEN 'failed' ELSE 'queued' END,
             next_attempt_at = now() + $4 * interval '1 millisecond', lease_until = NULL, last_error = $2, updated_at = now(),
             -- A message that will never be sent need not keep its links (reset, verify) any longer.
             model = CASE WHEN attempts >= $3 THEN '{}'::jsonb ELSE model END
       WHERE id = $1 AND status = 'sending' AND attempts = $5
      RETURNING status""";

  private static final String SUPPRESS = """
      UPDATE email_outbox SET status = 'suppressed', lease_until = NULL, last_error = $2, model = '{}'::jsonb, updated_at = now()
       WHERE id = $1 AND status = 'sending' AND attempts = $3""";

  private static final String HOLD = """
      UPDATE email_outbox SET lease_until = now() + $2 * interval '1 millisecond', last_error = $3, updated_at = now()
       WHERE id = $1 AND status = 'sending' AND attempts = $4""";

  private final Db db;

  OutboxStore(Db db) {
    this.db = db;
  }

  Future<List<OutboxMessage>> claim(int batch, Duration lease) {
    return db.asWorker(tx -> tx.preparedQuery(CLAIM).execute(Tuple.of(batch, lease.toMillis()))
        .map(rows -> Rows.all(rows, OutboxStore::message)));
  }

  Future<Set<String>> suppressedAmong(List<String> addresses) {
    if (addresses.isEmpty()) {
      return Future.succeededFuture(Set.of());
    }
    return db.asWorker(tx -> tx.preparedQuery(SUPPRESSED).execute(Tuple.of(addresses.toArray(String[]::new)))
        .map(rows -> Rows.all(rows, r -> r.getString("address")).stream().collect(Collectors.toSet())));
  }

  Future<Void> sent(OutboxMessage m, String smtpResponse, String providerId) {
    return db.asWorker(tx -> tx.preparedQuery(SENT).execute(Tuple.of(m.id(), smtpResponse, providerId, m.attempts())).mapEmpty());
  }

  /** Records a failed attempt; answers whether the row is now {@code failed} for good. */
  Future<Boolean> retryOrFail(OutboxMessage m, String error, int maxAttempts, Duration delay) {
    return db.asWorker(tx -> tx.preparedQuery(RETRY)
        .execute(Tuple.of(m.id(), error, maxAttempts, delay.toMillis(), m.attempts()))
        .map(rows -> rows.size() == 1 && "failed".equals(rows.iterator().next().getString("status"))));
  }

  Future<Void> suppressed(OutboxMessage m) {
    return db.asWorker(tx -> tx.preparedQuery(SUPPRESS)
        .execute(Tuple.of(m.id(), "recipient is on the suppression list", m.attempts())).mapEmpty());
  }

  /** Keeps the claim for {@code lease} more: a send whose outcome is not known yet must not be retried. */
  Future<Void> hold(OutboxMessage m, Duration lease, String why) {
    return db.asWorker(tx -> tx.preparedQuery(HOLD).execute(Tuple.of(m.id(), lease.toMillis(), why, m.attempts())).mapEmpty());
  }

  private static OutboxMessage message(Row r) {
    Object model = r.getValue("model");
    return new OutboxMessage(r.getUUID("id"), r.getString("template"), r.getString("recipient"),
        model instanceof JsonObject json ? json : new JsonObject(), r.getInteger("attempts"));
  }
}
