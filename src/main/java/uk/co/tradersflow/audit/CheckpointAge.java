package uk.co.tradersflow.audit;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.metrics.Sampler;

/**
 * {@code tf_audit_checkpoint_age_seconds}: seconds since any instance last anchored a checkpoint
 * of the audit chain in its sinks, read from the shared index (the same on every instance). Before
 * the first checkpoint it counts from this process's start, so a sink that never worked still
 * shows as a growing age rather than as nothing.
 */
final class CheckpointAge implements Sampler {
    static final String AGE = "SELECT audit_checkpoint_age() AS age";

    private final Db db;
    private final Clock clock;
    private final Instant started;
    private volatile Double anchoredAge;
    private volatile Instant sampledAt;

    CheckpointAge(Db db, Clock clock, MeterRegistry registry) {
        this.db = db;
        this.clock = clock;
        this.started = clock.instant();
        Gauge.builder("tf.audit.checkpoint.age", this, CheckpointAge::seconds)
                .baseUnit("seconds")
                .description("Seconds since a checkpoint of the audit chain was last anchored outside the database")
                .register(registry);
    }

    double seconds() {
        Instant now = clock.instant();
        Double age = anchoredAge;
        Instant at = sampledAt;
        if (age == null || at == null) {
            return Duration.between(started, now).toMillis() / 1000.0;
        }
        // Between samples the age keeps growing with the clock.
        return age + Duration.between(at, now).toMillis() / 1000.0;
    }

    @Override
    public Future<?> sample() {
        return db.asWorker(tx -> tx.query(AGE).execute()).onSuccess(rows -> {
            Double age = rows.iterator().next().getDouble("age");
            sampledAt = clock.instant();
            anchoredAge = age;
        });
    }
}
