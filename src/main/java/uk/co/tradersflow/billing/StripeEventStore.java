package uk.co.tradersflow.billing;

import io.vertx.core.Future;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import uk.co.tradersflow.platform.bus.Addresses;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.db.Tx;

/**
 * The durable event log. The primary key on the Stripe event id decides which delivery stores an
 * event; a conditional UPDATE (pending/failed-and-due/lease-expired → processing), taken a batch at a
 * time, decides which worker handles it, on this instance or another. All of it runs as tf_worker. An event that
 * becomes due (stored for the first time, or replayed) wakes a webhook verticle once its
 * transaction commits; the verticles poll as well, so the signal only saves waiting.
 */
public final class StripeEventStore {
    static final int MAX_ATTEMPTS = 10;
    private static final String INSERT = "SELECT stripe_event_store($1, $2, $3, $4, $5, $6, $7) AS stored";
    private static final String CLAIMABLE =
            """
      (status = 'pending' OR (status = 'failed' AND next_attempt_at <= now())
       OR (status = 'processing' AND lease_until < now()))""";
    /**
     * The events whose handling calls Stripe (a subscription or Connect account re-read, see
     * {@link StripeEventHandler#apply}); the rest (payments, ignored types) touch only the database.
     * Must stay a superset of the types that call Stripe: it picks the lane that bounds those calls.
     */
    static final String CALLS_STRIPE =
            """
      (type = 'account.updated' OR (connect_account IS NULL AND type IN ('customer.subscription.created',
       'customer.subscription.updated', 'customer.subscription.deleted', 'customer.subscription.paused',
       'customer.subscription.resumed', 'customer.subscription.trial_will_end', 'checkout.session.completed',
       'invoice.paid', 'invoice.payment_succeeded', 'invoice.payment_failed')))""";
    /**
     * Claims up to $1 due events of one lane at once, oldest due first. SKIP LOCKED lets instances
     * claim side by side without waiting on each other's rows. The subquery locks each row it
     * returns and, when the row changed since the statement began, re-checks CLAIMABLE on its newest
     * version first, so the UPDATE changes only claimable rows, which this transaction holds until
     * it commits: one claimer for each event, with one lease.
     *
     * <p>The ids are an array computed once ({@code = ANY (ARRAY(…))}), never {@code IN (SELECT …
     * LIMIT $1 …)}: with statistics that saw no due events (a backlog that arrived since the last
     * ANALYZE) PostgreSQL planned that as a nested loop re-running the subquery for every due row,
     * and a claim of 64 took all 7,375 due events in 19 s, quadratic in the backlog, past the
     * database budget, so no claim ever finished and the backlog never drained
     * (load-tests/README.md, "thirteenth sitting"). The outer UPDATE finds the ids by primary key.
     */
    static final String CLAIM_BATCH =
            """
      UPDATE stripe_events SET status = 'processing', attempts = attempts + 1, lease_until = now() + interval '60 seconds'
       WHERE id = ANY (ARRAY(SELECT id FROM stripe_events WHERE next_attempt_at <= now() AND %s AND %s
                              ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED))
      RETURNING id, payload, attempts""";

    static final String CLAIM_STRIPE_BATCH = CLAIM_BATCH.formatted(CLAIMABLE, CALLS_STRIPE);
    static final String CLAIM_LOCAL_BATCH = CLAIM_BATCH.formatted(CLAIMABLE, "NOT " + CALLS_STRIPE);
    private static final String DONE =
            """
      UPDATE stripe_events SET status = $2, processed_at = now(), lease_until = NULL, last_error = $3,
             account_id = coalesce($4, account_id)
       WHERE id = $1 AND status = 'processing' AND attempts = $5""";
    /** {@link #DONE} for many events at once; returns the ids this batch's claims still held. */
    private static final String DONE_ALL =
            """
      UPDATE stripe_events e SET status = d.status, processed_at = now(), lease_until = NULL, last_error = d.note,
             account_id = coalesce(d.account_id, e.account_id)
        FROM unnest($1::text[], $2::int4[], $3::text[], $4::text[], $5::uuid[]) AS d(id, attempts, status, note, account_id)
       WHERE e.id = d.id AND e.status = 'processing' AND e.attempts = d.attempts
      RETURNING e.id""";

    private static final String FAILED =
            """
      UPDATE stripe_events SET status = 'failed', lease_until = NULL, last_error = left($2, 1000),
             next_attempt_at = CASE WHEN attempts >= $3 THEN 'infinity'::timestamptz
                                    ELSE now() + make_interval(secs => least(3600, power(2, attempts))) END
       WHERE id = $1 AND status = 'processing' AND attempts = $4""";
    // Contention, not a fault: the event goes back to the queue for a fresh round soon. It keeps
    // the attempt its claim spent, so an event that never gets through still ends failed for good.
    private static final String DEFERRED =
            """
      UPDATE stripe_events SET status = CASE WHEN attempts >= $3 THEN 'failed' ELSE 'pending' END, lease_until = NULL,
             last_error = left($2, 1000),
             next_attempt_at = CASE WHEN attempts >= $3 THEN 'infinity'::timestamptz
                                    ELSE now() + $4 * interval '1 millisecond' END
       WHERE id = $1 AND status = 'processing' AND attempts = $5""";
    // Never started: the claim is undone, the attempt it counted given back.
    private static final String HANDED_BACK =
            """
      UPDATE stripe_events SET status = 'pending', attempts = greatest(attempts - 1, 0), lease_until = NULL,
             next_attempt_at = now() + $2 * interval '1 millisecond'
       WHERE id = $1 AND status = 'processing' AND attempts = $3""";
    private static final String LIST_FAILED =
            """
      SELECT id, type, connect_account, account_id, created, received_at, status, attempts, last_error, next_attempt_at
        FROM stripe_events WHERE status = $1 AND (received_at, id) < ($2, $3)
       ORDER BY received_at DESC, id DESC LIMIT $4""";
    private static final String REPLAY =
            """
      UPDATE stripe_events SET status = 'pending', attempts = 0, next_attempt_at = now(), lease_until = NULL
       WHERE id = $1 AND status IN ('failed', 'ignored') RETURNING id""";
    private static final String EXISTS = "SELECT status FROM stripe_events WHERE id = $1";

    private final Db db;
    private final EventBus bus;

    public StripeEventStore(Db db, EventBus bus) {
        this.db = db;
        this.bus = bus;
    }

    /** After {@code tx} commits, one webhook verticle (point-to-point) handles {@code id} now instead of at its next poll. */
    private void dueAfterCommit(Tx tx, String id) {
        tx.afterCommit(() -> bus.send(Addresses.STRIPE_EVENT_DUE, new StripeEventDue(id)));
    }

    /** Stores the event; false when it was already stored (a redelivery). */
    public Future<Boolean> store(JsonObject event, String id) {
        // As the worker: a request's role may not store events for the worker to apply (V019).
        return db.asWorker(
                tx -> tx.preparedQuery(INSERT).execute(storeArgs(event, id)).map(rows -> {
                    boolean fresh = rows.iterator().next().getBoolean("stored");
                    if (fresh) {
                        dueAfterCommit(tx, id);
                    }
                    return fresh;
                }));
    }

    /** A verified event waiting to be stored: its id, and the event as delivered. */
    public record Incoming(String id, JsonObject event) {}

    /**
     * Stores the events in one transaction, one statement each but one round trip and one COMMIT
     * (one WAL flush) for all: what makes a busy webhook endpoint cheap for the database. Answers in
     * {@code incoming}'s order whether each was stored by this call (false for a redelivery, and for
     * the second of two deliveries of one event in the same call). Fails as a whole, storing nothing,
     * when the database refuses any one of them. The statements run in id order, so two batches that
     * share events lock them in the same order and never deadlock on each other.
     */
    public Future<List<Boolean>> storeAll(List<Incoming> incoming) {
        List<Integer> byId = new ArrayList<>(incoming.size());
        for (int i = 0; i < incoming.size(); i++) {
            byId.add(i);
        }
        byId.sort(Comparator.comparing(i -> incoming.get(i).id()));
        List<Tuple> args = byId.stream()
                .map(i -> storeArgs(incoming.get(i).event(), incoming.get(i).id()))
                .toList();
        return db.asWorker(tx -> tx.preparedQuery(INSERT).executeBatch(args).map(first -> {
            Boolean[] stored = new Boolean[incoming.size()];
            RowSet<Row> rows = first;
            for (int i : byId) {
                stored[i] = rows.iterator().next().getBoolean("stored");
                rows = rows.next();
            }
            for (int i = 0; i < stored.length; i++) {
                if (stored[i]) {
                    dueAfterCommit(
                            tx, incoming.get(i).id()); // once: the signal wakes a verticle, which claims what is due
                    break;
                }
            }
            return List.of(stored);
        }));
    }

    private static Tuple storeArgs(JsonObject event, String id) {
        return Tuple.tuple()
                .addString(id)
                .addString(event.getString("type", "unknown"))
                .addString(event.getString("api_version"))
                .addString(event.getString("account"))
                .addBoolean(event.getBoolean("livemode", false))
                .addOffsetDateTime(
                        OffsetDateTime.ofInstant(Instant.ofEpochSecond(event.getLong("created", 0L)), ZoneOffset.UTC))
                .addValue(event);
    }

    public record Claimed(String id, JsonObject payload, int attempts) {}

    /**
     * Claims up to {@code limit} due events at once, each as {@link #claim} would: those whose
     * handling calls Stripe when {@code callsStripe}, the others otherwise, so each lane is bounded
     * on its own and a slow Stripe never holds back payments.
     */
    public Future<List<Claimed>> claimDue(boolean callsStripe, int limit) {
        String sql = callsStripe ? CLAIM_STRIPE_BATCH : CLAIM_LOCAL_BATCH;
        return db.asWorker(tx -> tx.preparedQuery(sql).execute(Tuple.of(limit)).map(rows -> {
            List<Claimed> claimed = new java.util.ArrayList<>(rows.size());
            rows.forEach(r -> claimed.add(claimed(r.getString("id"), r)));
            return claimed;
        }));
    }

    private static Claimed claimed(String id, Row r) {
        Object payload = r.getValue("payload");
        JsonObject json = payload instanceof JsonObject j ? j : new JsonObject(String.valueOf(payload));
        return new Claimed(id, json, r.getInteger("attempts"));
    }

    /** Marks the event handled inside the transaction that applied its effects. */
    /**
     * Marks the event handled inside the transaction that applied its effects, if this claim still
     * holds it. A handler that outlived its lease, whose event another claim has taken over, fails
     * with {@link LeaseLost} instead, and its transaction rolls back with its effects: only the
     * claim that holds the event commits them.
     */
    public Future<Void> done(SqlConnection tx, Claimed claimed, String status, String note, UUID account) {
        return tx.preparedQuery(DONE)
                .execute(Tuple.of(claimed.id(), status, note, account, claimed.attempts()))
                .compose(rows -> rows.rowCount() == 1
                        ? Future.<Void>succeededFuture()
                        : Future.failedFuture(new LeaseLost(claimed.id())));
    }

    /** An event's outcome for {@link #doneAll}: as {@link #done}'s arguments. */
    public record Done(Claimed claimed, String status, String note, UUID account) {}

    /**
     * Marks many handled events in one statement, inside the transaction that applied them (as
     * {@link #done} marks one); returns the ids whose claim still held them. The others, taken over
     * by a newer claim, are left as that claim has them.
     */
    public Future<Set<String>> doneAll(SqlConnection tx, List<Done> done) {
        int n = done.size();
        String[] ids = new String[n];
        Integer[] attempts = new Integer[n];
        String[] statuses = new String[n];
        String[] notes = new String[n];
        UUID[] accounts = new UUID[n];
        for (int i = 0; i < n; i++) {
            Done d = done.get(i);
            ids[i] = d.claimed().id();
            attempts[i] = d.claimed().attempts();
            statuses[i] = d.status();
            notes[i] = d.note();
            accounts[i] = d.account();
        }
        return tx.preparedQuery(DONE_ALL)
                .execute(Tuple.tuple()
                        .addArrayOfString(ids)
                        .addArrayOfInteger(attempts)
                        .addArrayOfString(statuses)
                        .addArrayOfString(notes)
                        .addArrayOfUUID(accounts))
                .map(rows -> {
                    Set<String> held = new HashSet<>(rows.size() * 2);
                    rows.forEach(r -> held.add(r.getString("id")));
                    return held;
                });
    }

    /** Records a failed handling for a later retry; does nothing once another claim holds the event. */
    public Future<Void> failed(Claimed claimed, String error) {
        return db.asWorker(tx -> tx.preparedQuery(FAILED)
                .execute(Tuple.of(claimed.id(), error, MAX_ATTEMPTS, claimed.attempts()))
                .mapEmpty());
    }

    /**
     * Puts the event back as pending, due again after {@code delayMillis}: its handling lost every
     * round to other writers of the same billing row, which is no fault of the event's.
     */
    public Future<Void> deferred(Claimed claimed, String why, long delayMillis) {
        return db.asWorker(tx -> tx.preparedQuery(DEFERRED)
                .execute(Tuple.of(claimed.id(), why, MAX_ATTEMPTS, delayMillis, claimed.attempts()))
                .mapEmpty());
    }

    /**
     * Undoes the claim of an event whose handling could not start (every Stripe call this instance
     * allows was in flight): pending again, due after {@code delayMillis}, the claim's attempt given back.
     */
    public Future<Void> handedBack(Claimed claimed, long delayMillis) {
        return db.asWorker(tx -> tx.preparedQuery(HANDED_BACK)
                .execute(Tuple.of(claimed.id(), delayMillis, claimed.attempts()))
                .mapEmpty());
    }

    public Future<JsonArray> list(String status, OffsetDateTime before, String beforeId, int limit) {
        return db.asWorker(tx -> tx.preparedQuery(LIST_FAILED)
                .execute(Tuple.of(status, before, beforeId, limit))
                .map(rows -> {
                    JsonArray items = new JsonArray();
                    rows.forEach(r -> items.add(new JsonObject()
                            .put("id", r.getString("id"))
                            .put("type", r.getString("type"))
                            .put("connectedAccount", r.getString("connect_account"))
                            .put(
                                    "accountId",
                                    r.getUUID("account_id") == null
                                            ? null
                                            : r.getUUID("account_id").toString())
                            .put(
                                    "created",
                                    r.getOffsetDateTime("created").toInstant().toString())
                            .put(
                                    "receivedAt",
                                    r.getOffsetDateTime("received_at")
                                            .toInstant()
                                            .toString())
                            .put("status", r.getString("status"))
                            .put("attempts", r.getInteger("attempts"))
                            .put("lastError", r.getString("last_error"))));
                    return items;
                }));
    }

    /** Makes a failed (or ignored) event pending again; empty if no such event, false if not replayable. */
    public Future<Optional<Boolean>> replay(Tx tx, String id) {
        return tx.preparedQuery(REPLAY).execute(Tuple.of(id)).compose(rows -> {
            if (rows.size() == 1) {
                dueAfterCommit(tx, id);
                return Future.succeededFuture(Optional.of(true));
            }
            return tx.preparedQuery(EXISTS)
                    .execute(Tuple.of(id))
                    .map(r -> r.size() == 0 ? Optional.<Boolean>empty() : Optional.of(false));
        });
    }
}
