package uk.co.tradersflow.storage;

import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
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
  private static final int BATCH = 500;

  private static final String CLAIM = """
      SELECT id, key_id, wrapped_key FROM documents
       WHERE key_id = ANY($1)
       ORDER BY id
       LIMIT %d
         FOR UPDATE SKIP LOCKED""".formatted(BATCH);

  private static final String REWRAPPED = "UPDATE documents SET key_id = $2, wrapped_key = $3 WHERE id = $1";

  private final Db db;
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
            log.info("re-wrapped {} document data key(s) under master key {}; none left under {}", n,
                keys.currentKeyId(), keys.previousKeyIds());
          }
        })
        .onFailure(e -> log.warn("data key re-wrapping failed, will retry: {}", e.toString()));
  }

  private Future<Integer> rotateFrom(int done) {
    return batch().compose(n -> n == 0 ? Future.succeededFuture(done) : rotateFrom(done + n));
  }

  private Future<Integer> batch() {
    String[] previous = keys.previousKeyIds().toArray(String[]::new);
    return db.asWorker(tx -> tx.preparedQuery(CLAIM).execute(Tuple.of((Object) previous)).compose(rows -> {
      List<Row> claimed = new ArrayList<>();
      rows.forEach(claimed::add);
      if (claimed.isEmpty()) {
        return Future.succeededFuture(0);
      }
      return workers.executeBlocking(() -> {
        List<Tuple> updates = new ArrayList<>(claimed.size());
        for (Row r : claimed) {
          byte[] rewrapped = keys.rewrap(r.getString("key_id"), r.getBuffer("wrapped_key").getBytes(), r.getUUID("id"));
          updates.add(Tuple.of(r.getUUID("id"), keys.currentKeyId(), Buffer.buffer(rewrapped)));
        }
        return updates;
      }, false).compose(updates -> tx.preparedQuery(REWRAPPED).executeBatch(updates)).map(x -> claimed.size());
    }));
  }
}
