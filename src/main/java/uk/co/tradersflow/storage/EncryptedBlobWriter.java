package uk.co.tradersflow.storage;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import java.util.UUID;

/**
 * The event-loop side of storing an upload. Bytes are gathered into chunk-sized batches here;
 * sealing and writing happen on worker threads, one task after the other for this upload (and
 * in parallel with other uploads). At most {@value #MAX_QUEUED} bytes wait for a worker: past
 * that {@link #writeQueueFull()} tells the caller to pause the request until the drain handler
 * runs, so a fast client cannot fill the heap however large its file.
 *
 * <p>All methods run on the request's event loop; only the tasks touch the blob stream.
 */
final class EncryptedBlobWriter {
    static final int BATCH = ChunkedAead.CHUNK;
    static final long MAX_QUEUED = 8L * BATCH;

    private final WorkerExecutor workers;
    private final BlobStore blobs;
    private final BlobId blob;
    private Buffer batch = Buffer.buffer(BATCH);
    private Future<Void> tail;
    private long queued;
    private Handler<Void> drainHandler;
    /** Touched only by this upload's worker tasks, which never overlap. */
    private BlobStore.Output blobOutput;

    private ChunkedAead.EncryptingOutputStream out;

    /** Starts writing once {@code ready} succeeds (the blob is registered for clean-up). */
    EncryptedBlobWriter(
            WorkerExecutor workers, BlobStore blobs, BlobId blob, byte[] dataKey, UUID documentId, Future<Void> ready) {
        this.workers = workers;
        this.blobs = blobs;
        this.blob = blob;
        this.tail = ready.compose(v -> workers.executeBlocking(
                () -> {
                    blobOutput = blobs.create(blob);
                    out = new ChunkedAead.EncryptingOutputStream(blobOutput, dataKey, documentId);
                    return null;
                },
                false));
    }

    void write(Buffer data) {
        batch.appendBuffer(data);
        if (batch.length() >= BATCH) {
            flush();
        }
    }

    boolean writeQueueFull() {
        return queued >= MAX_QUEUED;
    }

    void drainHandler(Handler<Void> handler) {
        this.drainHandler = handler;
    }

    /** Seals the last chunk and makes the blob durable; answers its stored size. */
    Future<Long> end() {
        flush();
        Future<Long> done = tail.compose(v -> workers.executeBlocking(
                () -> {
                    out.close();
                    return ChunkedAead.sealedSize(out.plaintextSize());
                },
                false));
        tail = done.mapEmpty();
        return done;
    }

    /** Stops writing and removes whatever was written: once any task in flight has finished. */
    Future<Void> abort() {
        return tail.transform(ignored -> workers.executeBlocking(
                () -> {
                    if (blobOutput != null) {
                        blobOutput.abort();
                    }
                    // Also when the blob was completed: the commit that should have followed failed.
                    blobs.delete(blob);
                    return null;
                },
                false));
    }

    private void flush() {
        if (batch.length() == 0) {
            return;
        }
        byte[] bytes = batch.getBytes();
        batch = Buffer.buffer(BATCH);
        queued += bytes.length;
        tail = tail.compose(v -> workers.<Void>executeBlocking(
                        () -> {
                            out.write(bytes);
                            return null;
                        },
                        false))
                .andThen(ar -> {
                    queued -= bytes.length;
                    if (drainHandler != null && !writeQueueFull()) {
                        Handler<Void> handler = drainHandler;
                        drainHandler = null;
                        handler.handle(null);
                    }
                });
    }
}
