package uk.co.tradersflow.storage;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import java.util.UUID;

/**
 * The event-loop side of storing an upload. Bytes are gathered into batches of
 * {@value #BATCH} bytes (four of the format's chunks) here; sealing and writing happen on worker
 * threads, one task per batch, one after the other for this upload (and in parallel with other
 * uploads). A batch per task, rather than a chunk, keeps the hand-offs between the event loop and
 * the workers (two thread wake-ups each) to 200 for a 50 MiB file. At most {@value #MAX_QUEUED}
 * bytes wait for a worker: two batches, so one is sealed while the next fills. Past that
 * {@link #writeQueueFull()} tells the caller to pause the request until the drain handler runs,
 * so a fast client cannot fill the heap however large its file.
 *
 * <p>All methods run on the request's event loop; only the tasks touch the blob stream.
 */
final class EncryptedBlobWriter {
    static final int BATCH = 4 * ChunkedAead.CHUNK;
    static final long MAX_QUEUED = 2L * BATCH;

    private final WorkerExecutor workers;
    private final BlobStore blobs;
    private final BlobId blob;
    /** The batch being filled; none while the request is paused, so a paused upload holds only its queue. */
    private byte[] batch;

    private int batched;
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
        int length = data.length();
        for (int at = 0; at < length; ) {
            if (batch == null) {
                batch = new byte[BATCH];
            }
            int n = Math.min(length - at, BATCH - batched);
            data.getBytes(at, at + n, batch, batched);
            batched += n;
            at += n;
            if (batched == BATCH) {
                flush();
            }
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
        if (batched == 0) {
            return;
        }
        byte[] bytes = batch;
        int length = batched;
        batch = null;
        batched = 0;
        queued += length;
        tail = tail.compose(v -> workers.<Void>executeBlocking(
                        () -> {
                            out.write(bytes, 0, length);
                            return null;
                        },
                        false))
                .andThen(ar -> {
                    queued -= length;
                    if (drainHandler != null && !writeQueueFull()) {
                        Handler<Void> handler = drainHandler;
                        drainHandler = null;
                        handler.handle(null);
                    }
                });
    }
}
