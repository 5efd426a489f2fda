package uk.co.tradersflow.storage;

import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.jobs.PeriodicJobVerticle;

/**
 * Finishes a master key rotation: data keys still wrapped under a key listed in
 * {@code TF_DATA_KEY_PREVIOUS} are re-wrapped under {@code TF_DATA_KEY}, a batch per
 * transaction, rows claimed {@code FOR UPDATE SKIP LOCKED} so several instances share the work.
 * Files are not touched: only the 60-byte wrapped keys change. Once the log says none are left,
 * the old key can be removed from the settings and destroyed.
 */
public final class DataKeyRotationVerticle extends PeriodicJobVerticle {
    private static final Logger log = LoggerFactory.getLogger(DataKeyRotationVerticle.class);
    private final Db db;
    private final StorageJobsRepository repository = new StorageJobsRepository();
    private final EnvelopeKeys keys;
    private final WorkerExecutor workers;

    public DataKeyRotationVerticle(Db db, EnvelopeKeys keys, WorkerExecutor workers, Duration interval) {
        // Rotation starts a second after a deploy that names a previous key, not an interval later.
        super(Duration.ofSeconds(1), interval);
        this.db = db;
        this.keys = keys;
        this.workers = workers;
    }

    /** Only while a previous master key is configured. */
    @Override
    protected boolean enabled() {
        return !keys.previousKeyIds().isEmpty();
    }

    /** Re-wraps batches until none are left under a previous key; answers how many were re-wrapped. */
    @Override
    protected Future<Integer> round() {
        return rotateFrom(0)
                .onSuccess(n -> {
                    if (n > 0) {
                        log.info(
                                "re-wrapped {} document data key(s) under master key {}; none left under {}",
                                n,
                                keys.currentKeyId(),
                                keys.previousKeyIds());
                    }
                })
                .onFailure(e -> log.warn("data key re-wrapping failed, will retry: {}", e.toString()));
    }

    private Future<Integer> rotateFrom(int done) {
        return batch().compose(n -> n == 0 ? Future.succeededFuture(done) : rotateFrom(done + n));
    }

    private Future<Integer> batch() {
        return db.asWorker(
                tx -> repository.claimKeysUnder(tx, keys.previousKeyIds()).compose(claimed -> {
                    if (claimed.isEmpty()) {
                        return Future.succeededFuture(0);
                    }
                    return workers.executeBlocking(
                                    () -> {
                                        List<StorageJobsRepository.WrappedKey> updates =
                                                new ArrayList<>(claimed.size());
                                        for (StorageJobsRepository.WrappedKey k : claimed) {
                                            updates.add(new StorageJobsRepository.WrappedKey(
                                                    k.documentId(),
                                                    keys.currentKeyId(),
                                                    keys.rewrap(k.keyId(), k.wrapped(), k.documentId())));
                                        }
                                        return updates;
                                    },
                                    false)
                            .compose(updates -> repository.rewrapped(tx, updates))
                            .map(x -> claimed.size());
                }));
    }
}
