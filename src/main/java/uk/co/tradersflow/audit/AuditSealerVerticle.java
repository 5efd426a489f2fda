package uk.co.tradersflow.audit;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.co.tradersflow.platform.bus.Addresses;
import uk.co.tradersflow.platform.db.Db;

/**
 * Chains committed audit entries shortly after they are written: on the signal
 * {@link AuditLog#append} has its transaction send once it commits, and on a timer (which also
 * picks up entries written by other instances). The database function takes an advisory lock, so
 * with many instances one seals while the others return at once.
 */
public final class AuditSealerVerticle extends VerticleBase {
    private static final Logger log = LoggerFactory.getLogger(AuditSealerVerticle.class);
    private static final int BATCH = 1000;

    private final Db db;
    private final Duration interval;
    private boolean running;
    private boolean again;
    private boolean failing;
    /** When a sealing round last succeeded: {@code tf_audit_seal_lag_seconds} is the time since. */
    private volatile long lastSealedNanos = System.nanoTime();

    public AuditSealerVerticle(Db db, Duration interval, MeterRegistry registry) {
        this.db = db;
        this.interval = interval;
        // Rounds run every interval and seal everything committed, so this stays under a second or
        // two while sealing works, and grows without bound when it does not (database down, lock held).
        Gauge.builder("tf.audit.seal.lag", this, s -> (System.nanoTime() - s.lastSealedNanos) / 1e9)
                .baseUnit("seconds")
                .description("Seconds since audit sealing last succeeded")
                .register(registry);
    }

    @Override
    public Future<?> start() {
        vertx.eventBus().consumer(Addresses.AUDIT_APPENDED, m -> sealSoon());
        vertx.setPeriodic(interval.toMillis(), id -> sealSoon());
        return Future.succeededFuture();
    }

    private void sealSoon() {
        if (running) {
            again = true;
            return;
        }
        running = true;
        again = false;
        db.direct(pool -> pool.preparedQuery("SELECT audit_seal($1) AS sealed").execute(Tuple.of(BATCH)))
                .map(rows -> rows.iterator().next().getInteger("sealed"))
                .onComplete(ar -> {
                    running = false;
                    if (ar.failed()) {
                        // Once per outage: the timer retries twice a second, and a log line each time hides everything
                        // else.
                        if (!failing) {
                            log.warn(
                                    "audit sealing failed, retrying every {} ms until it works: {}",
                                    interval.toMillis(),
                                    ar.cause().getMessage());
                            failing = true;
                        }
                        return;
                    }
                    lastSealedNanos = System.nanoTime();
                    if (failing) {
                        log.info("audit sealing works again");
                        failing = false;
                    }
                    if (ar.result() == BATCH || again) {
                        sealSoon();
                    }
                });
    }
}
