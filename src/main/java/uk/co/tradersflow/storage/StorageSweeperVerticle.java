package uk.co.tradersflow.storage;

import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
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
  private static final int BATCH = 20;

  // 20 deletions at the S3 client's 30 s timeout stay well inside the 15-minute lease.
  private static final String CLAIM = """
      UPDATE storage_garbage g SET delete_after = now() + interval '15 minutes', claimed_at = coalesce(g.claimed_at, now())
        FROM (SELECT account_id, blob_name FROM storage_garbage
               WHERE delete_after <= now()
               ORDER BY delete_after
               LIMIT %d
                 FOR UPDATE SKIP LOCKED) due
       WHERE g.account_id = due.account_id AND g.blob_name = due.blob_name
      RETURNING g.account_id, g.blob_name""".formatted(BATCH);

  private static final String REMOVED = """
      DELETE FROM storage_garbage g USING unnest($1::uuid[], $2::text[]) AS done(account_id, blob_name)
       WHERE g.account_id = done.account_id AND g.blob_name = done.blob_name""";

  private static final String RETRY_LATER = """
      UPDATE storage_garbage g SET attempts = attempts + 1,
             delete_after = now() + least(interval '1 hour', interval '1 minute' * power(2, least(attempts, 6)))
        FROM unnest($1::uuid[], $2::text[]) AS failed(account_id, blob_name)
       WHERE g.account_id = failed.account_id AND g.blob_name = failed.blob_name""";

  private final Db db;
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
    return db.asWorker(tx -> tx.query(CLAIM).execute().map(rows -> {
          List<BlobId> due = new ArrayList<>();
          for (Row r : rows) {
            due.add(new BlobId(r.getUUID("account_id"), r.getString("blob_name")));
          }
          return due;
        }))
        .compose(due -> due.isEmpty() ? Future.succeededFuture(0) : workers.executeBlocking(() -> removeAll(due), false)
            .compose(outcome -> db.asWorker(tx -> tx.preparedQuery(REMOVED).execute(columns(outcome.removed()))
                .compose(x -> outcome.failed().isEmpty() ? Future.succeededFuture()
                    : tx.preparedQuery(RETRY_LATER).execute(columns(outcome.failed())))
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

  private static Tuple columns(List<BlobId> blobs) {
    return Tuple.tuple().addArrayOfUUID(blobs.stream().map(BlobId::accountId).toArray(UUID[]::new))
        .addArrayOfString(blobs.stream().map(BlobId::name).toArray(String[]::new));
  }
}
