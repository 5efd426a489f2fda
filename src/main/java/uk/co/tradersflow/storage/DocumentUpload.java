package uk.co.tradersflow.storage;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerFileUpload;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.error.FieldError;
import uk.co.tradersflow.platform.http.Api;
import uk.co.tradersflow.platform.http.ClientInfo;
import uk.co.tradersflow.platform.security.Principal;

/**
 * One multipart upload, streamed: the first bytes decide the type (nothing is stored for a type
 * we refuse), then the file is encrypted and written by {@link EncryptedBlobWriter} as it
 * arrives, pausing the request whenever the workers fall behind. The size limit is enforced on
 * the bytes actually received, mid-stream. Only when the whole body is in and the blob is
 * durable does {@link DocumentService#record} insert the row, check the job and write the audit
 * entry, in one transaction; any failure before that removes the blob, so no partial file
 * outlives a failed request.
 *
 * <p>Every method runs on the request's event loop.
 */
final class DocumentUpload {
    private static final Logger log = LoggerFactory.getLogger(DocumentUpload.class);

    private final DocumentService service;
    private final RoutingContext ctx;
    private final HttpServerRequest request;
    private final Principal me;
    private final ClientInfo.Client client;
    private final UUID documentId = UUID.randomUUID();
    private Buffer head = Buffer.buffer(FileType.HEAD);
    private HttpServerFileUpload upload;
    private String rawFilename;
    private FileType type;
    private BlobId blob;
    private byte[] dataKey;
    private EncryptedBlobWriter writer;
    private long received;
    private boolean uploadEnded;
    private boolean requestEnded;
    private boolean partPaused;
    private long dataEvents;
    private boolean finished;

    DocumentUpload(DocumentService service, RoutingContext ctx, ClientInfo.Client client) {
        this.service = service;
        this.ctx = ctx;
        this.request = ctx.request();
        this.me = Principal.of(ctx);
        this.client = client;
    }

    /** Called with the request paused (see {@link DocumentRoutes}); resumes it once every handler is in place. */
    void start() {
        request.setExpectMultipart(true);
        request.uploadHandler(this::onPart);
        request.exceptionHandler(this::onBroken);
        request.endHandler(v -> onRequestEnd());
        if ("100-continue".equalsIgnoreCase(request.getHeader("Expect"))) {
            ctx.response().writeContinue();
        }
        request.resume();
    }

    private void onPart(HttpServerFileUpload part) {
        if (finished) {
            part.handler(ignored -> {});
            return;
        }
        if (!"file".equals(part.name()) || upload != null) {
            part.handler(ignored -> {});
            fail(AppError.of(
                    ErrorCode.MALFORMED_REQUEST, "Send exactly one file, in the multipart part named \"file\""));
            return;
        }
        upload = part;
        rawFilename = part.filename();
        part.handler(this::onData);
        part.exceptionHandler(this::onBroken);
        part.endHandler(v -> onFileEnd());
    }

    private void onData(Buffer data) {
        if (finished) {
            return;
        }
        dataEvents++;
        received += data.length();
        if (received > service.maxBytes()) {
            fail(service.tooLarge());
            return;
        }
        if (writer == null) {
            head.appendBuffer(data);
            if (head.length() >= FileType.HEAD) {
                decideType();
            }
            return;
        }
        writer.write(data);
        if (writer.writeQueueFull()) {
            partPaused = true;
            upload.pause();
            writer.drainHandler(v -> {
                partPaused = false;
                if (!finished) {
                    upload.resume();
                }
            });
        }
    }

    /** The bytes, not the name or the declared type, decide; only an accepted file gets a blob. */
    private void decideType() {
        Optional<FileType> sniffed = FileType.sniff(head.getBytes());
        if (sniffed.isEmpty()) {
            fail(AppError.of(
                    ErrorCode.UNSUPPORTED_MEDIA_TYPE, "Only JPEG, PNG, WebP, HEIC and PDF files are accepted"));
            return;
        }
        type = sniffed.get();
        blob = BlobId.random(me.accountId());
        dataKey = EnvelopeKeys.newDataKey();
        Future<Void> registered = service.expectUpload(me.accountId(), blob);
        registered.onFailure(this::fail);
        writer = service.writer(blob, dataKey, documentId, registered);
        writer.write(head);
        head = null;
    }

    private void onFileEnd() {
        if (!finished && writer == null) {
            decideType();
        }
        uploadEnded = true;
        if (requestEnded) {
            complete();
        }
    }

    /**
     * The request's end can overtake the file part's end when the part was paused for
     * backpressure: its last bytes and end are still queued. Completion waits for both.
     */
    private void onRequestEnd() {
        requestEnded = true;
        if (upload == null || uploadEnded) {
            complete();
        } else {
            watchForATruncatedPart(-1);
        }
    }

    /**
     * A body that ends without the file part's closing boundary ends the request but never the
     * part, and nothing else would ever answer it. Once the request has ended, a part that is
     * not paused and has received nothing for a tick will receive nothing more.
     */
    private void watchForATruncatedPart(long eventsAtLastTick) {
        ctx.vertx().setTimer(200, id -> {
            if (finished || uploadEnded) {
                return;
            }
            if (!partPaused && dataEvents == eventsAtLastTick) {
                fail(AppError.of(ErrorCode.MALFORMED_REQUEST, "The multipart body ended before the file part did"));
            } else {
                watchForATruncatedPart(dataEvents);
            }
        });
    }

    private void complete() {
        if (finished) {
            return;
        }
        if (upload == null) {
            fail(AppError.validation(List.of(new FieldError("file", "a file is required"))));
            return;
        }
        Optional<UUID> jobId;
        try {
            jobId = jobId();
        } catch (AppError e) {
            fail(e);
            return;
        }
        String filename = Filenames.sanitize(rawFilename, type);
        long size = received;
        Future<Document> stored = writer.end()
                .compose(storedSize -> service.record(
                        me,
                        client,
                        new NewDocument(documentId, jobId, filename, type, size, storedSize, blob, dataKey)));
        stored.onComplete(ar -> {
            if (ar.succeeded()) {
                finished = true;
                Api.json(ctx, 201, ar.result().toJson());
            } else {
                fail(ar.cause());
            }
        });
    }

    /** {@code jobId}, if sent, once and as a UUID; whether it is one of the caller's jobs is checked in the transaction. */
    private Optional<UUID> jobId() {
        List<String> values = request.formAttributes().getAll("jobId");
        if (values.isEmpty() || values.size() == 1 && values.get(0).isBlank()) {
            return Optional.empty();
        }
        try {
            if (values.size() == 1) {
                return Optional.of(UUID.fromString(values.get(0).strip()));
            }
        } catch (IllegalArgumentException e) {
            // answered below
        }
        throw AppError.validation(List.of(new FieldError("jobId", "must be one job id")));
    }

    private void onBroken(Throwable cause) {
        if (!finished) {
            log.debug("upload broken off by the client: {}", cause.toString());
            fail(AppError.of(ErrorCode.MALFORMED_REQUEST, "The upload was broken off"));
        }
    }

    /**
     * Answers with the problem once and removes any blob written. The rest of the body is read
     * and dropped by the route's failure handler ({@link uk.co.tradersflow.platform.http.UnreadBody#discard}).
     */
    private void fail(Throwable error) {
        if (finished) {
            return;
        }
        finished = true;
        error = service.uploadFailure(error);
        if (writer != null) {
            BlobId abandoned = blob;
            writer.abort()
                    .compose(v -> service.abandon(me.accountId(), abandoned))
                    .onFailure(e -> log.warn(
                            "could not remove an abandoned upload now; the storage sweeper will: {}", e.toString()));
        }
        if (upload != null) {
            upload.handler(ignored -> {});
            upload.resume();
        }
        ctx.fail(error);
    }
}
