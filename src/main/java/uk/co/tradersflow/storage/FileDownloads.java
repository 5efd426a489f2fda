package uk.co.tradersflow.storage;

import io.netty.buffer.Unpooled;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.ext.web.RoutingContext;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.platform.http.WhenWritable;

/**
 * {@code GET /files/{account}/{document}?expires=&v=&sig=}: the file a signed URL names.
 *
 * <p>{@link DocumentService#linked} checks the signature first, with no database work, so forged
 * or altered URLs cost a MAC and nothing more. Only then is the account in the URL trusted, and
 * used as the row-level security scope of the lookup: a URL signed for account A cannot reach a
 * row of account B, whatever id it carries. The lookup also reads the account's status and
 * current URL epoch, so a deleted document, a suspended or closed account, or a sign-out
 * everywhere kill the URL at once. Every refusal is the same 403: an altered URL learns nothing
 * about what exists.
 *
 * <p>The bytes are decrypted on workers a part (up to four chunks) at a time and written with
 * backpressure; each chunk is authenticated before a byte of it is sent. The next part is
 * decrypted while the connection sends the one before it, so the socket does not wait for a
 * worker between parts: at most one part is written and one ready per download. A file altered on disk fails before the
 * headers when its first chunk is bad, and is cut off (never completed with altered bytes) when a
 * later one is.
 */
final class FileDownloads {
    private static final Logger log = LoggerFactory.getLogger(FileDownloads.class);
    static final String PATH = "/files/:account/:document";

    private final DocumentService service;

    FileDownloads(DocumentService service) {
        this.service = service;
    }

    static String path(UUID account, UUID document) {
        return "/files/" + account + "/" + document;
    }

    void serve(RoutingContext ctx) {
        Optional<DocumentLinks.Presented> presented = presented(ctx);
        if (presented.isEmpty()) {
            ctx.fail(refused());
            return;
        }
        service.linked(presented.get()).onFailure(ctx::fail).onSuccess(found -> {
            if (found.isEmpty()) {
                ctx.fail(refused());
                return;
            }
            StoredFile file = found.get();
            Optional<ByteRange> range;
            try {
                range = ByteRange.parse(ctx.request().getHeader("Range"), file.size());
            } catch (AppError e) {
                ctx.response().putHeader("Content-Range", "bytes */" + file.size());
                ctx.fail(e);
                return;
            }
            new Transfer(ctx, file, range).start();
        });
    }

    private static AppError refused() {
        uk.co.tradersflow.platform.metrics.SecurityEvents.record(
                uk.co.tradersflow.platform.metrics.SecurityEvents.Event.SIGNED_URL_REJECTED);
        return AppError.of(ErrorCode.SIGNED_URL_INVALID, "This link has expired or is not valid; ask for a new one");
    }

    /** The URL's parts, parsed strictly; anything malformed is simply not a signed link. */
    private static Optional<DocumentLinks.Presented> presented(RoutingContext ctx) {
        try {
            String expires = ctx.request().getParam("expires");
            String epoch = ctx.request().getParam("v");
            String signature = ctx.request().getParam("sig");
            if (expires == null || epoch == null || signature == null || expires.length() > 12 || epoch.length() > 10) {
                return Optional.empty();
            }
            return Optional.of(new DocumentLinks.Presented(
                    UUID.fromString(ctx.pathParam("account")),
                    UUID.fromString(ctx.pathParam("document")),
                    Instant.ofEpochSecond(Long.parseLong(expires)),
                    Integer.parseInt(epoch),
                    signature));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    /** One response's worth of decrypting and writing, a part per worker task, one part ahead. */
    private final class Transfer {
        private final RoutingContext ctx;
        private final HttpServerResponse response;
        private final StoredFile file;
        private final Optional<ByteRange> range;
        private ChunkedAead.RangeReader reader;
        private boolean stopped;
        /** A part is being read on a worker: the reader is closed once that read is over, never during it. */
        private boolean reading;

        Transfer(RoutingContext ctx, StoredFile file, Optional<ByteRange> range) {
            this.ctx = ctx;
            this.response = ctx.response();
            this.file = file;
            this.range = range;
        }

        void start() {
            if (response.closed()) {
                return;
            }
            ByteRange sent = range.orElse(new ByteRange(0, file.size() - 1));
            long first = sent.first();
            long last = sent.last();
            response.closeHandler(v -> stop());
            service.open(file, first, last).onComplete(ar -> {
                if (ar.failed()) {
                    Throwable error = integrity(ar.cause());
                    if (!stopped) {
                        ctx.fail(error);
                    }
                    return;
                }
                // The reader is only ever held here, on the event loop; worker tasks get it passed in.
                reader = ar.result().reader();
                if (stopped) {
                    close();
                    return;
                }
                response.putHeader("Content-Type", file.type().contentType())
                        .putHeader("Content-Disposition", Filenames.contentDisposition(file.filename(), file.type()))
                        .putHeader("Cache-Control", "private, no-store")
                        .putHeader("Accept-Ranges", "bytes")
                        .putHeader("Content-Length", Long.toString(sent.length()));
                if (range.isPresent()) {
                    response.setStatusCode(206)
                            .putHeader("Content-Range", "bytes " + first + "-" + last + "/" + file.size());
                }
                send(ar.result().firstPart());
            });
        }

        /**
         * Writes a part and at once asks a worker for the next, which, if it comes back while the
         * response is full, waits for the response to drain.
         */
        private void send(byte[] part) {
            if (stopped) {
                return;
            }
            if (part == null) {
                response.end();
                close();
                return;
            }
            // Wrapped, not copied: the array is this response's from here on.
            response.write(BufferInternal.buffer(Unpooled.wrappedBuffer(part)));
            next();
        }

        private void next() {
            ChunkedAead.RangeReader open = reader;
            if (stopped || open == null) {
                return;
            }
            reading = true;
            service.next(open).onComplete(ar -> {
                reading = false;
                if (stopped) {
                    close();
                    return;
                }
                if (ar.succeeded()) {
                    // Not a plain drain handler: Vert.x keeps it, so a later drain would send this part
                    // again and start a second next() on the reader beside the one its send starts.
                    WhenWritable.run(response, () -> send(ar.result()));
                } else {
                    // Headers and earlier chunks are out: all we can do is cut the response short, so the
                    // client sees a failed transfer, never a complete-looking file with altered bytes.
                    integrity(ar.cause());
                    stopped = true;
                    response.reset();
                    close();
                }
            });
        }

        /** The client left: nothing more is sent, and the reader is closed once no read is using it. */
        private void stop() {
            if (!stopped) {
                stopped = true;
                response.drainHandler(null);
                if (!reading) {
                    close();
                }
            }
        }

        private void close() {
            ChunkedAead.RangeReader open = reader;
            if (open != null) {
                reader = null;
                service.close(open);
            }
        }

        private Throwable integrity(Throwable cause) {
            if (cause instanceof ChunkedAead.TamperedFileException) {
                log.error(
                        "stored file of document {} failed authentication (altered, truncated or mis-keyed): {}",
                        file.documentId(),
                        cause.getMessage());
                return AppError.of(ErrorCode.INTERNAL_ERROR, "This file cannot be read; it has been reported");
            }
            log.error("could not read the stored file of document {}: {}", file.documentId(), cause.toString());
            return cause instanceof java.io.IOException
                    ? AppError.of(ErrorCode.SERVICE_UNAVAILABLE, "File storage is unavailable; try again shortly")
                    : cause;
        }
    }
}
