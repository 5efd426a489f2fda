package uk.co.tradersflow.storage;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import uk.co.tradersflow.support.TestServer;

/** The event-loop side of an upload: how it hands the bytes to the storage workers. */
class EncryptedBlobWriterTest {
    final Vertx vertx = Vertx.vertx();

    @TempDir
    Path dir;

    @AfterEach
    void close() {
        TestServer.await(vertx.close());
    }

    /**
     * Every worker task is two thread wake-ups; at 64 KiB a task, a 50 MiB upload paid 1,600 of
     * them. The bytes now go over in quarter-megabyte batches: 3 MiB, arriving as the 16 KiB
     * pieces the HTTP decoder gives, is the blob's creation, twelve batches and the close.
     */
    @Test
    void anUploadHandsTheWorkersOneTaskPerQuarterMegabyteAndStoresItsBytesSealed() throws Exception {
        byte[] plain = new byte[3 * 1024 * 1024];
        new Random(3).nextBytes(plain);
        AtomicInteger tasks = new AtomicInteger();
        WorkerExecutor pool = vertx.createSharedWorkerExecutor("writer-test", 2);
        WorkerExecutor counting = new WorkerExecutor() {
            @Override
            public <T> Future<T> executeBlocking(Callable<T> task, boolean ordered) {
                tasks.incrementAndGet();
                return pool.executeBlocking(task, ordered);
            }

            @Override
            public Future<Void> close() {
                return pool.close();
            }
        };
        LocalDiskBlobStore blobs = new LocalDiskBlobStore(dir);
        BlobId blob = BlobId.random(UUID.randomUUID());
        byte[] key = EnvelopeKeys.newDataKey();
        UUID doc = UUID.randomUUID();
        Promise<Long> stored = Promise.promise();
        vertx.runOnContext(v -> {
            EncryptedBlobWriter writer =
                    new EncryptedBlobWriter(counting, blobs, blob, key, doc, Future.succeededFuture());
            for (int at = 0; at < plain.length; at += 16 * 1024) {
                writer.write(Buffer.buffer().appendBytes(plain, at, 16 * 1024));
            }
            writer.end().onComplete(stored);
        });
        long size = TestServer.await(stored.future());

        assertThat(tasks.get()).isEqualTo(1 + plain.length / EncryptedBlobWriter.BATCH + 1);
        Path file = blobs.path(blob);
        assertThat(size).isEqualTo(Files.size(file)).isEqualTo(ChunkedAead.sealedSize(plain.length));
        ByteArrayOutputStream opened = new ByteArrayOutputStream();
        try (var in = Files.newInputStream(file)) {
            ChunkedAead.decrypt(in, opened, key, doc);
        }
        assertThat(opened.toByteArray()).isEqualTo(plain);
    }
}
