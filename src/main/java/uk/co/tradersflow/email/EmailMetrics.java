package uk.co.tradersflow.email;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import java.util.concurrent.atomic.AtomicReference;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.metrics.Sampler;
import uk.co.tradersflow.platform.metrics.Tally;

/**
 * Email delivery figures: {@code tf_email_messages_total{outcome}} counted where each outcome
 * happens, and the outbox backlog ({@code tf_email_outbox_depth}, {@code tf_email_outbox_oldest_seconds})
 * sampled from the database. The windowed failure rate and the alert flag are {@link EmailHealth}'s.
 */
public final class EmailMetrics implements Sampler {
    public enum Outcome {
        /** A row written to the outbox (a dedupe hit writes none). */
        QUEUED,
        /** Accepted by the SMTP server. */
        SENT,
        /** Given up on: attempts exhausted, or nothing a retry could fix. */
        FAILED,
        /** Not sent: the recipient is on the suppression list. */
        SUPPRESSED,
        /** The provider reported a bounce. */
        BOUNCED,
        /** The provider reported a spam complaint. */
        COMPLAINED
    }

    private static final Tally<Outcome> TALLY =
            new Tally<>(Outcome.class, "tf.email.messages", "outcome", "Transactional emails by outcome");

    private final OutboxStore outbox;
    private final AtomicReference<OutboxStore.Backlog> backlog = new AtomicReference<>(new OutboxStore.Backlog(0, 0));

    public EmailMetrics(Db db, MeterRegistry registry) {
        this.outbox = new OutboxStore(db);
        TALLY.bindTo(registry);
        Gauge.builder("tf.email.outbox.depth", backlog, b -> b.get().depth())
                .description("Emails queued or being sent")
                .register(registry);
        Gauge.builder("tf.email.outbox.oldest", backlog, b -> b.get().oldestSeconds())
                .baseUnit("seconds")
                .description("Age of the oldest email not yet sent")
                .register(registry);
    }

    public static void count(Outcome outcome) {
        TALLY.add(outcome);
    }

    public static long counted(Outcome outcome) {
        return TALLY.count(outcome);
    }

    /** A provider event that was recorded: bounces and complaints are counted. */
    static void providerEvent(String type) {
        switch (type) {
            case "bounced" -> count(Outcome.BOUNCED);
            case "complained" -> count(Outcome.COMPLAINED);
            default -> {}
        }
    }

    @Override
    public Future<?> sample() {
        return outbox.backlog().onSuccess(backlog::set);
    }
}
