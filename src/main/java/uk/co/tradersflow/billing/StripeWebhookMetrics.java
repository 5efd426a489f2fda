package uk.co.tradersflow.billing;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import java.util.concurrent.atomic.AtomicReference;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.metrics.Sampler;
import uk.co.tradersflow.platform.metrics.Tally;

/**
 * Stripe webhook figures: {@code tf_stripe_webhooks_total{outcome}} counted as deliveries arrive
 * and events are handled, and the event log's backlog sampled from the database:
 * {@code tf_stripe_webhook_unprocessed} (stored, not yet applied), {@code tf_stripe_webhook_gave_up}
 * (retries exhausted, waiting for an owner's replay) and {@code tf_stripe_webhook_oldest_unprocessed_seconds}.
 */
public final class StripeWebhookMetrics implements Sampler {
    public enum Outcome {
        /** A delivery reached the verifier. */
        RECEIVED,
        /** Verified and stored for the first time. */
        STORED,
        /** Verified, and already stored: Stripe delivered it again. */
        DUPLICATE,
        /** Refused: bad or stale signature, or not an event. */
        REJECTED,
        /** Handling an event failed (it is retried with backoff). */
        FAILED
    }

    private static final Tally<Outcome> TALLY = new Tally<>(
            Outcome.class, "tf.stripe.webhooks", "outcome", "Stripe webhook deliveries and event handling by outcome");

    private static final String BACKLOG =
            """
      SELECT count(*) AS unprocessed,
             count(*) FILTER (WHERE status = 'failed' AND next_attempt_at = 'infinity') AS gave_up,
             COALESCE(EXTRACT(EPOCH FROM now() - min(received_at)), 0)::float8 AS oldest
        FROM stripe_events WHERE status IN ('pending', 'processing', 'failed')""";

    private record Backlog(long unprocessed, long gaveUp, double oldestSeconds) {}

    private final Db db;
    private final AtomicReference<Backlog> backlog = new AtomicReference<>(new Backlog(0, 0, 0));

    public StripeWebhookMetrics(Db db, MeterRegistry registry) {
        this.db = db;
        TALLY.bindTo(registry);
        Gauge.builder("tf.stripe.webhook.unprocessed", backlog, b -> b.get().unprocessed())
                .description("Stored Stripe events not yet applied")
                .register(registry);
        Gauge.builder("tf.stripe.webhook.gave.up", backlog, b -> b.get().gaveUp())
                .description("Stripe events whose retries are exhausted, waiting for an owner's replay")
                .register(registry);
        Gauge.builder("tf.stripe.webhook.oldest.unprocessed", backlog, b -> b.get()
                        .oldestSeconds())
                .baseUnit("seconds")
                .description("Age of the oldest stored Stripe event not yet applied")
                .register(registry);
    }

    public static void count(Outcome outcome) {
        TALLY.add(outcome);
    }

    public static long counted(Outcome outcome) {
        return TALLY.count(outcome);
    }

    @Override
    public Future<?> sample() {
        return db.asWorker(tx -> tx.query(BACKLOG).execute()).map(rows -> {
            Row r = rows.iterator().next();
            backlog.set(new Backlog(r.getLong("unprocessed"), r.getLong("gave_up"), r.getDouble("oldest")));
            return null;
        });
    }
}
