package uk.co.tradersflow.audit;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.co.tradersflow.platform.bus.Addresses;
import uk.co.tradersflow.platform.db.Db;

/**
 * Chains committed audit entries shortly after they are written: on the signal
 * {@link AuditLog#append} has its transaction send once it commits, and on a timer (which also
 * picks up entries written by other instances), at most once a {@link #ROUND_GAP} while entries keep
 * coming ({@link SealRounds}). The database function takes an advisory lock, so with many instances
 * one seals while the others return at once.
 *
 * <p>Every {@code checkpointInterval} it also takes the chain's checkpoint for that slot of time
 * (one instance per slot: {@link AuditCheckpoints#takeForSlot}), and as it stops it seals what is
 * committed and takes one more of its own, so the newest entries before a shutdown are anchored too.
 */
public final class AuditSealerVerticle extends VerticleBase {
    private static final Logger log = LoggerFactory.getLogger(AuditSealerVerticle.class);
    private static final int BATCH = 1000;

    /** While rounds keep being wanted, they start at most this often (see {@link SealRounds}). */
    static final Duration ROUND_GAP = Duration.ofMillis(50);

    /** How long a stopping server waits for its last seal and checkpoint. */
    static final Duration STOP_BUDGET = Duration.ofSeconds(5);

    private final Db db;
    private final Duration interval;
    private final AuditCheckpoints checkpoints;
    private final Duration checkpointInterval;
    private final SealRounds rounds = new SealRounds(
            ROUND_GAP, BATCH, this::round, (ms, task) -> vertx.setTimer(ms, id -> task.run()), System::nanoTime);
    private boolean checkpointFailing;
    private boolean checkpointing;
    private boolean failing;
    /** When a sealing round last succeeded: {@code tf_audit_seal_lag_seconds} is the time since. */
    private volatile long lastSealedNanos = System.nanoTime();

    public AuditSealerVerticle(
            Db db,
            Duration interval,
            MeterRegistry registry,
            AuditCheckpoints checkpoints,
            Duration checkpointInterval) {
        this.db = db;
        this.interval = interval;
        this.checkpoints = checkpoints;
        this.checkpointInterval = checkpointInterval;
        // Rounds run every interval and seal everything committed, so this stays under a second or
        // two while sealing works, and grows without bound when it does not (database down, lock held).
        Gauge.builder("tf.audit.seal.lag", this, s -> (System.nanoTime() - s.lastSealedNanos) / 1e9)
                .baseUnit("seconds")
                .description("Seconds since audit sealing last succeeded")
                .register(registry);
    }

    @Override
    public Future<?> start() {
        vertx.eventBus().consumer(Addresses.AUDIT_APPENDED, m -> rounds.wanted());
        vertx.setPeriodic(interval.toMillis(), id -> rounds.wanted());
        vertx.setPeriodic(checkpointInterval.toMillis(), id -> checkpoint());
        log.info("audit checkpoints every {} s to {}", checkpointInterval.toSeconds(), checkpoints.describeSinks());
        return Future.succeededFuture();
    }

    private void checkpoint() {
        // One at a time: a slow sink (S3 timing out) must not pile checkpoints up behind it.
        if (checkpointing) {
            return;
        }
        checkpointing = true;
        checkpoints.takeForSlot(checkpointInterval).onComplete(ar -> {
            checkpointing = false;
            if (ar.failed()) {
                // Once per outage; tf_audit_checkpoint_age_seconds and its alert say how long it lasts.
                if (!checkpointFailing) {
                    log.warn(
                            "audit checkpoint failed, retrying each interval: {}",
                            ar.cause().getMessage());
                    checkpointFailing = true;
                }
                return;
            }
            if (checkpointFailing) {
                log.info("audit checkpoints work again");
                checkpointFailing = false;
            }
        });
    }

    /** Seals what is committed, then anchors a checkpoint of this instance's own; never holds the stop up for long. */
    @Override
    public Future<?> stop() {
        // A round of its own still in flight holds the advisory lock: this seal would return at once
        // and the checkpoint could miss what that round is sealing. So no new round, and wait for it.
        return rounds.stop()
                .compose(v -> db.direct(pool ->
                        pool.preparedQuery("SELECT audit_seal($1) AS sealed").execute(Tuple.of(BATCH))))
                .transform(sealing -> checkpoints.takeAtStop())
                .timeout(STOP_BUDGET.toMillis(), TimeUnit.MILLISECONDS)
                .onSuccess(c -> c.ifPresent(taken -> log.info("audit checkpoint at stop: {} entries", taken.entries())))
                .otherwise(e -> {
                    log.warn("no audit checkpoint at stop: {}", e.getMessage());
                    return java.util.Optional.empty();
                });
    }

    /** One round: seals up to {@link #BATCH} committed entries; answers how many. */
    private Future<Integer> round() {
        return db.direct(pool ->
                        pool.preparedQuery("SELECT audit_seal($1) AS sealed").execute(Tuple.of(BATCH)))
                .map(rows -> rows.iterator().next().getInteger("sealed"))
                .andThen(ar -> {
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
                });
    }
}
