package uk.co.tradersflow.storage;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.platform.db.Rows;
import uk.co.tradersflow.platform.http.PageRequest;

/** Document and storage-garbage SQL, run inside {@code Db.inAccount}: row-level security scopes every statement. */
final class DocumentRepository {
    private static final String COLUMNS = "id, filename, content_type, size_bytes, job_id, created_at";

    private static final String LIST =
            """
      SELECT %s FROM documents
       WHERE (created_at, id) < ($1, $2)
         AND ($4::uuid IS NULL OR job_id = $4)
       ORDER BY created_at DESC, id DESC
       LIMIT $3"""
                    .formatted(COLUMNS);

    private static final String INSERT =
            """
      INSERT INTO documents (id, job_id, filename, content_type, size_bytes, stored_bytes, blob_name, key_id, wrapped_key)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
      RETURNING %s"""
                    .formatted(COLUMNS);

    private static final String JOB_EXISTS = "SELECT EXISTS (SELECT 1 FROM jobs WHERE id = $1) AS found";

    private static final String DELETE = "DELETE FROM documents WHERE id = $1 RETURNING blob_name";

    /** The account row comes too: its status and URL epoch decide whether a signed URL still holds. */
    private static final String FOR_DOWNLOAD =
            """
      SELECT d.id, d.filename, d.content_type, d.size_bytes, d.stored_bytes, d.blob_name, d.key_id, d.wrapped_key,
             a.status, a.file_url_epoch
        FROM documents d JOIN accounts a ON a.id = d.account_id
       WHERE d.id = $1""";

    private static final String URL_EPOCH =
            """
      SELECT a.file_url_epoch FROM documents d JOIN accounts a ON a.id = d.account_id WHERE d.id = $1""";

    private static final String EXPECT_GARBAGE =
            """
      INSERT INTO storage_garbage (blob_name, delete_after) VALUES ($1, now() + make_interval(secs => $2))""";

    // A row the sweeper has claimed is its to finish: the bytes may already be going (V020).
    private static final String FORGET_GARBAGE =
            "DELETE FROM storage_garbage WHERE blob_name = $1 AND claimed_at IS NULL";

    Future<List<Document>> list(SqlConnection tx, PageRequest page, UUID jobId) {
        return tx.preparedQuery(LIST)
                .execute(Tuple.of(Rows.utc(page.afterCreatedAt()), page.afterId(), page.fetchSize(), jobId))
                .map(rows -> Rows.all(rows, Document::from));
    }

    Future<Boolean> jobExists(SqlConnection tx, UUID jobId) {
        return tx.preparedQuery(JOB_EXISTS)
                .execute(Tuple.of(jobId))
                .map(rows -> rows.iterator().next().getBoolean("found"));
    }

    /** Records {@code file}, its data key wrapped under the key {@code keyId}. */
    Future<Document> insert(SqlConnection tx, NewDocument file, String keyId, byte[] wrappedKey) {
        Tuple args = Tuple.tuple()
                .addUUID(file.id())
                .addUUID(file.jobId().orElse(null))
                .addString(file.filename())
                .addString(file.type().contentType())
                .addLong(file.size())
                .addLong(file.storedSize())
                .addString(file.blob().name())
                .addString(keyId)
                .addBuffer(Buffer.buffer(wrappedKey));
        return tx.preparedQuery(INSERT).execute(args).map(rows -> Rows.one(rows, Document::from));
    }

    /** Deletes the row, and with it the only copy of the file's data key; answers the blob to remove. */
    Future<String> delete(SqlConnection tx, UUID id) {
        return tx.preparedQuery(DELETE).execute(Tuple.of(id)).map(rows -> {
            if (rows.rowCount() == 0) {
                throw AppError.notFound();
            }
            return rows.iterator().next().getString("blob_name");
        });
    }

    Future<Optional<StoredFile>> forDownload(SqlConnection tx, UUID accountId, UUID id) {
        return tx.preparedQuery(FOR_DOWNLOAD)
                .execute(Tuple.of(id))
                .map(rows -> rows.rowCount() == 0
                        ? Optional.empty()
                        : Optional.of(StoredFile.from(accountId, rows.iterator().next())));
    }

    /** The account's current URL epoch, if the document exists (in this account). */
    Future<Integer> urlEpoch(SqlConnection tx, UUID id) {
        return tx.preparedQuery(URL_EPOCH)
                .execute(Tuple.of(id))
                .map(rows -> Rows.one(rows, r -> r.getInteger("file_url_epoch")));
    }

    /** Registers a blob for deletion after {@code grace} unless {@link #forgetGarbage} claims it first. */
    Future<Void> expectGarbage(SqlConnection tx, String blobName, Duration grace) {
        return tx.preparedQuery(EXPECT_GARBAGE)
                .execute(Tuple.of(blobName, (double) grace.toSeconds()))
                .mapEmpty();
    }

    /** True when the row was still there and unclaimed: the sweeper has not begun on the blob. */
    Future<Boolean> forgetGarbage(SqlConnection tx, String blobName) {
        return tx.preparedQuery(FORGET_GARBAGE).execute(Tuple.of(blobName)).map(rows -> rows.rowCount() == 1);
    }
}
