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
 * Removes blobs that no document row owns: those of deleted documents whose immediate removal
 * failed, and those of uploads that never committed (a crash, a lost connection). The work list
 * is the {@code storage_garbage} table; rows are claimed with {@code FOR UPDATE SKIP LOCKED} and
 * a lease (their {@code delete_after} pushed past what a batch can take), committed before any
 * blob is touched, so every instance can run this on its timer, no blob is handled twice at once,
 * and no transaction waits on the blob store. A row goes only after its blob is gone; a blob that
 * cannot be removed is retried later, and a sweep cut off midway is taken up when its lease ends.
 */
public final class StorageSweeperVerticle extends PeriodicJobVerticle {
    private static final Logger log = LoggerFactory.getLogger(StorageSweeperVerticle.class);
    private final Db db;
    private final StorageJobsRepository repository = new StorageJobsRepository();
    private final BlobStore blobs;
    private final WorkerExecutor workers;

    public StorageSweeperVerticle(Db db, BlobStore blobs, WorkerExecutor workers, Duration interval) {
        super(interval);
        this.db = db;
        this.blobs = blobs;
        this.workers = workers;
    }

    /** One round over at most one batch of due blobs; answers how many were removed. */
    @Override
    protected Future<Integer> round() {
        return db.asWorker(repository::claimGarbage)
                .compose(due -> due.isEmpty()
                        ? Future.succeededFuture(0)
                        : workers.executeBlocking(() -> removeAll(due), false)
                                .compose(outcome -> db.asWorker(tx -> repository
                                        .garbageRemoved(tx, outcome.removed())
                                        .compose(x -> outcome.failed().isEmpty()
                                                ? Future.<Void>succeededFuture()
                                                : repository.garbageRetryLater(tx, outcome.failed()))
                                        .map(x -> outcome.removed().size()))))
                .onSuccess(n -> {
                    if (n > 0) {
                        log.info("removed {} orphaned blob(s) from storage", n);
                    }
                })
                .onFailure(e -> log.warn("storage sweep failed, will retry: {}", e.toString()));
    }

    private record Outcome(List<BlobId> removed, List<BlobId> failed) {}

    private Outcome removeAll(List<BlobId> due) {
        List<BlobId> removed = new ArrayList<>();
        List<BlobId> failed = new ArrayList<>();
        for (BlobId blob : due) {
            try {
                blobs.delete(blob);
                removed.add(blob);
            } catch (java.io.IOException | RuntimeException e) {
                log.warn("could not remove blob {} of account {}: {}", blob.name(), blob.accountId(), e.toString());
                failed.add(blob);
            }
        }
        return new Outcome(removed, failed);
    }
}
