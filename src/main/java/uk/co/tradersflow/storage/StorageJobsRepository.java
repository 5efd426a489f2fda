package uk.co.tradersflow.storage;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.Collection;
import java.util.List;
import java.util.UUID;
import uk.co.tradersflow.platform.db.Rows;

/**
 * The SQL of storage's background jobs, which span accounts and so run as {@code tf_worker}
 * ({@code Db.asWorker}): the blob sweeper's work list ({@code storage_garbage}) and the master
 * key rotation's re-wrapping of data keys. Claims use {@code FOR UPDATE SKIP LOCKED}, so every
 * instance can run the jobs at once without handling a row twice.
 */
final class StorageJobsRepository {
    /** Blobs a sweep claims at most. */
    static final int SWEEP_BATCH = 20;
    /** Data keys one rotation transaction re-wraps at most. */
    static final int REWRAP_BATCH = 500;

    // 20 deletions at the S3 client's 30 s timeout stay well inside the 15-minute lease. The due
    // rows are computed once (a materialised CTE), not as a subquery in FROM, which may run again
    // for each row it is joined against and so take more than the batch (see StripeEventStore's claim).
    private static final String CLAIM_GARBAGE =
            """
      WITH due AS MATERIALIZED (SELECT account_id, blob_name FROM storage_garbage
                                 WHERE delete_after <= now()
                                 ORDER BY delete_after
                                 LIMIT %d
                                   FOR UPDATE SKIP LOCKED)
      UPDATE storage_garbage g SET delete_after = now() + interval '15 minutes', claimed_at = coalesce(g.claimed_at, now())
        FROM due
       WHERE g.account_id = due.account_id AND g.blob_name = due.blob_name
      RETURNING g.account_id, g.blob_name"""
                    .formatted(SWEEP_BATCH);

    private static final String GARBAGE_REMOVED =
            """
      DELETE FROM storage_garbage g USING unnest($1::uuid[], $2::text[]) AS done(account_id, blob_name)
       WHERE g.account_id = done.account_id AND g.blob_name = done.blob_name""";

    private static final String GARBAGE_RETRY_LATER =
            """
      UPDATE storage_garbage g SET attempts = attempts + 1,
             delete_after = now() + least(interval '1 hour', interval '1 minute' * power(2, least(attempts, 6)))
        FROM unnest($1::uuid[], $2::text[]) AS failed(account_id, blob_name)
       WHERE g.account_id = failed.account_id AND g.blob_name = failed.blob_name""";

    private static final String CLAIM_KEYS =
            """
      SELECT id, key_id, wrapped_key FROM documents
       WHERE key_id = ANY($1)
       ORDER BY id
       LIMIT %d
         FOR UPDATE SKIP LOCKED"""
                    .formatted(REWRAP_BATCH);

    private static final String REWRAPPED = "UPDATE documents SET key_id = $2, wrapped_key = $3 WHERE id = $1";

    /** A document's data key as stored: wrapped under the master key {@code keyId}. */
    record WrappedKey(UUID documentId, String keyId, byte[] wrapped) {}

    /** Claims a batch of due blobs with a lease, committed before any blob is touched. */
    Future<List<BlobId>> claimGarbage(SqlConnection tx) {
        return tx.query(CLAIM_GARBAGE)
                .execute()
                .map(rows -> Rows.all(rows, r -> new BlobId(r.getUUID("account_id"), r.getString("blob_name"))));
    }

    /** Forgets blobs that are gone. */
    Future<Void> garbageRemoved(SqlConnection tx, List<BlobId> removed) {
        return tx.preparedQuery(GARBAGE_REMOVED).execute(columns(removed)).mapEmpty();
    }

    /** Backs off blobs that could not be removed: a minute, doubling, at most an hour. */
    Future<Void> garbageRetryLater(SqlConnection tx, List<BlobId> failed) {
        return tx.preparedQuery(GARBAGE_RETRY_LATER).execute(columns(failed)).mapEmpty();
    }

    /** Claims a batch of data keys still wrapped under one of {@code keyIds}. */
    Future<List<WrappedKey>> claimKeysUnder(SqlConnection tx, Collection<String> keyIds) {
        return tx.preparedQuery(CLAIM_KEYS)
                .execute(Tuple.of((Object) keyIds.toArray(String[]::new)))
                .map(rows -> Rows.all(
                        rows,
                        r -> new WrappedKey(
                                r.getUUID("id"),
                                r.getString("key_id"),
                                r.getBuffer("wrapped_key").getBytes())));
    }

    Future<Void> rewrapped(SqlConnection tx, List<WrappedKey> keys) {
        return tx.preparedQuery(REWRAPPED)
                .executeBatch(keys.stream()
                        .map(k -> Tuple.of(k.documentId(), k.keyId(), Buffer.buffer(k.wrapped())))
                        .toList())
                .mapEmpty();
    }

    private static Tuple columns(List<BlobId> blobs) {
        return Tuple.tuple()
                .addArrayOfUUID(blobs.stream().map(BlobId::accountId).toArray(UUID[]::new))
                .addArrayOfString(blobs.stream().map(BlobId::name).toArray(String[]::new));
    }
}
