package uk.co.tradersflow.storage;

import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.co.tradersflow.audit.AuditEntry;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.error.FieldError;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.http.ClientInfo;
import uk.co.tradersflow.platform.http.PageRequest;
import uk.co.tradersflow.platform.security.Principal;

/**
 * Job photos and documents as use cases: list, delete, issue a signed link, find what a link
 * names, and the steps of an upload ({@link DocumentUpload} streams the bytes; this records them).
 * Account data is reached only through the account-scoped transaction, so row-level security
 * scopes every statement. All blocking work (encryption, file I/O) runs on storage's own worker
 * pool; {@code caller} is the signed-in user acting, {@code client} where the request came from.
 */
public final class DocumentService {
    private static final Logger log = LoggerFactory.getLogger(DocumentService.class);
    /** An upload not committed within this is presumed dead and its blob swept. */
    static final Duration ABANDONED_AFTER = Duration.ofHours(1);

    /** A range of a stored file opened for reading, and its first part, already authenticated. */
    record OpenedRange(ChunkedAead.RangeReader reader, byte[] firstPart) {}

    private final Db db;
    private final DocumentRepository repository = new DocumentRepository();
    private final BlobStore blobs;
    private final WorkerExecutor workers;
    private final EnvelopeKeys keys;
    private final AuditLog audit;
    private final long maxBytes;
    private final StorageHealth health;
    private final DocumentLinks links;

    public DocumentService(
            Db db,
            BlobStore blobs,
            WorkerExecutor workers,
            EnvelopeKeys keys,
            AuditLog audit,
            long maxBytes,
            StorageHealth health,
            DocumentLinks links) {
        this.health = health;
        this.db = db;
        this.blobs = blobs;
        this.workers = workers;
        this.keys = keys;
        this.audit = audit;
        this.maxBytes = maxBytes;
        this.links = links;
    }

    /** A page of the account's documents, newest first, optionally only one job's. */
    public Future<List<Document>> list(UUID accountId, PageRequest page, Optional<UUID> jobId) {
        return db.readInAccount(accountId, tx -> repository.list(tx, page, jobId.orElse(null)));
    }

    /**
     * The row goes first, and with it the file's data key (crypto-shredding): from the commit on,
     * the bytes are unreadable wherever they are. The blob is then removed at once; if that fails,
     * its storage_garbage row, written in the same transaction, has the sweeper retry.
     */
    public Future<Void> delete(Principal caller, ClientInfo.Client client, UUID id) {
        UUID account = caller.accountId();
        Future<BlobId> deleted =
                db.inAccount(account, tx -> repository.delete(tx, id).compose(blobName -> repository
                        .expectGarbage(tx, blobName, Duration.ZERO)
                        .compose(v -> audit.append(
                                tx,
                                AuditEntry.byUser(caller, client, "document.deleted")
                                        .target("document", id)))
                        .map(v -> new BlobId(account, blobName))));
        return deleted.compose(blob -> workers.<Void>executeBlocking(
                        () -> {
                            blobs.delete(blob);
                            return null;
                        },
                        false)
                .compose(v -> db.inAccount(account, tx -> repository.forgetGarbage(tx, blob.name())))
                .<Void>mapEmpty()
                .recover(e -> {
                    log.warn("document {} deleted; its bytes will be removed by the sweeper: {}", id, e.toString());
                    return Future.succeededFuture();
                }));
    }

    /** A link to the document that works without a bearer token until it expires or the account's URL epoch moves. */
    public Future<DocumentLinks.Link> link(UUID accountId, UUID id) {
        var expiresAt = links.expiryFromNow();
        return db.readInAccount(accountId, tx -> repository.urlEpoch(tx, id))
                .map(epoch -> links.issue(accountId, id, expiresAt, epoch));
    }

    /**
     * What a presented link names, if it still holds. The signature is checked first, with no
     * database work; only then is the account in the link trusted, and used as the row-level
     * security scope of the lookup, which also reads the account's status and current URL epoch.
     * Every refusal is the same empty answer: an altered link learns nothing about what exists.
     */
    Future<Optional<StoredFile>> linked(DocumentLinks.Presented link) {
        if (!links.signed(link)) {
            return Future.succeededFuture(Optional.empty());
        }
        return db.readInAccount(link.account(), tx -> repository.forDownload(tx, link.account(), link.document()))
                .map(found ->
                        found.filter(f -> "active".equals(f.accountStatus()) && f.fileUrlEpoch() == link.epoch()));
    }

    /** Opens bytes {@code first..last} of a stored file on a worker and reads its first part. */
    Future<OpenedRange> open(StoredFile file, long first, long last) {
        return workers.executeBlocking(
                () -> {
                    byte[] key = keys.unwrap(file.keyId(), file.wrappedKey(), file.documentId());
                    ChunkedAead.RangeReader opened = new ChunkedAead.RangeReader(
                            (offset, length) -> blobs.read(file.blob(), offset, length),
                            file.storedSize(),
                            first,
                            last,
                            key,
                            file.documentId());
                    try {
                        return new OpenedRange(opened, opened.next());
                    } catch (java.io.IOException | RuntimeException e) {
                        opened.close();
                        throw e;
                    }
                },
                false);
    }

    /** The next authenticated part of an open range, or null at its end. */
    Future<byte[]> next(ChunkedAead.RangeReader reader) {
        return workers.executeBlocking(reader::next, false);
    }

    void close(ChunkedAead.RangeReader reader) {
        workers.executeBlocking(
                () -> {
                    reader.close();
                    return null;
                },
                false);
    }

    long maxBytes() {
        return maxBytes;
    }

    /** The one answer for a file over the limit, whether its declared length or its bytes say so. */
    AppError tooLarge() {
        return AppError.of(ErrorCode.PAYLOAD_TOO_LARGE, "Files may be at most " + maxBytes + " bytes");
    }

    /**
     * An upload's first step, before its blob exists: a storage_garbage row that has the sweeper
     * remove the blob unless {@link #record} takes it back, so a dead upload leaves nothing behind.
     */
    Future<Void> expectUpload(UUID accountId, BlobId blob) {
        return db.inAccount(accountId, tx -> repository.expectGarbage(tx, blob.name(), ABANDONED_AFTER));
    }

    /** Where the upload's bytes go, encrypted under {@code dataKey}, once {@code registered} has committed. */
    EncryptedBlobWriter writer(BlobId blob, byte[] dataKey, UUID documentId, Future<Void> registered) {
        return new EncryptedBlobWriter(workers, blobs, blob, dataKey, documentId, registered);
    }

    /**
     * One transaction: checks the job is the caller's, takes the blob back from the sweeper (409
     * when it already began: the upload took too long), inserts the row with the wrapped data key
     * and writes the audit entry.
     */
    Future<Document> record(Principal caller, ClientInfo.Client client, NewDocument file) {
        return db.inAccount(caller.accountId(), tx -> (file.jobId().isEmpty()
                                ? Future.succeededFuture(true)
                                : repository.jobExists(tx, file.jobId().get()))
                        .compose(found -> found
                                ? repository.forgetGarbage(tx, file.blob().name())
                                : Future.failedFuture(
                                        AppError.validation(List.of(new FieldError("jobId", "no such job")))))
                        .compose(stillOurs -> stillOurs
                                ? Future.succeededFuture()
                                : Future.failedFuture(
                                        AppError.of(ErrorCode.CONFLICT, "The upload took too long; send it again")))
                        .compose(v ->
                                repository.insert(tx, file, keys.currentKeyId(), keys.wrap(file.dataKey(), file.id())))
                        .compose(doc -> audit.append(
                                        tx,
                                        AuditEntry.byUser(caller, client, "document.uploaded")
                                                .target("document", file.id())
                                                .detail(
                                                        "contentType",
                                                        file.type().contentType())
                                                .detail("size", file.size())
                                                .detail(
                                                        "jobId",
                                                        file.jobId()
                                                                .map(UUID::toString)
                                                                .orElse(null)))
                                .map(doc)))
                .onSuccess(doc -> health.stored());
    }

    /** Removes an abandoned upload's blob registration, its blob already aborted. */
    Future<Boolean> abandon(UUID accountId, BlobId blob) {
        return db.inAccount(accountId, tx -> repository.forgetGarbage(tx, blob.name()));
    }

    /** A full disk is answered as such (507) and noted in storage health; anything else as it is. */
    Throwable uploadFailure(Throwable error) {
        return StorageHealth.isOutOfSpace(error) ? health.outOfSpace(error) : error;
    }
}
