package uk.co.tradersflow.storage;

import static io.vertx.core.http.HttpMethod.POST;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.support.BlockedThreadWatch;
import uk.co.tradersflow.support.Multipart;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/**
 * Issue 21: uploads stream, they never sit in memory. Ten large uploads run at once against the
 * in-process server while a sampler forces a GC every second and records the live heap. The
 * client runs in this JVM too, so the bound is 32 MiB (about 1.5 MiB a connection for both
 * sides' TLS, decoder, write queue and chunk buffers, plus slack for a loaded host); buffering
 * whole files would hold 320 MiB. Measured here: 12-20 MiB.
 */
class UploadHeapTest {
    static final int UPLOADS = 10;
    static final int FILE_BYTES = 32 * 1024 * 1024;
    static final long HEAP_BOUND = 32L * 1024 * 1024;
    static TestServer server;
    static TestUsers users;

    @RegisterExtension
    static final ServerExtension lifecycle = ServerExtension.with(
                    Map.of("TF_UPLOAD_MAX_BYTES", Integer.toString(64 * 1024 * 1024)))
            .then(s -> server = s)
            .then(s -> users = new TestUsers(s));

    @Test
    void tenConcurrentLargeUploadsKeepTheLiveHeapFarBelowTheirFileSizes() throws Exception {
        List<TestUser> owners = new ArrayList<>();
        for (int i = 0; i < UPLOADS; i++) {
            owners.add(users.create());
        }
        // The client gets its own Vert.x: its TLS work must neither share the server's event loops
        // nor, on a loaded host, trip the server's blocked-thread check.
        Vertx clientVertx = Vertx.vertx(new VertxOptions()
                .setMaxEventLoopExecuteTime(1)
                .setMaxEventLoopExecuteTimeUnit(TimeUnit.MINUTES)
                .setBlockedThreadCheckInterval(1)
                .setBlockedThreadCheckIntervalUnit(TimeUnit.MINUTES));
        HttpClient http = clientVertx.createHttpClient(
                new HttpClientOptions()
                        .setSsl(true)
                        .setTrustAll(true)
                        .setVerifyHost(false)
                        .setSslHandshakeTimeout(2)
                        .setSslHandshakeTimeoutUnit(TimeUnit.MINUTES),
                new PoolOptions().setHttp1MaxSize(UPLOADS));
        // One small upload per connection first: TLS sessions, pools and lazily built state on
        // both sides exist before the baseline, so only what the large uploads hold is counted.
        List<Future<Integer>> warmUps = new ArrayList<>();
        for (TestUser owner : owners) {
            warmUps.add(upload(http, owner, 256 * 1024));
        }
        for (Future<Integer> status : warmUps) {
            assertThat(TestServer.await(status)).isEqualTo(201);
        }
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        long baseline = liveHeap(memory);
        AtomicLong peak = new AtomicLong(baseline);
        AtomicBoolean running = new AtomicBoolean(true);
        Thread sampler = new Thread(() -> {
            while (running.get()) {
                peak.accumulateAndGet(liveHeap(memory), Math::max);
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        try {
            sampler.start();
            List<Future<Integer>> statuses = new ArrayList<>();
            for (TestUser owner : owners) {
                statuses.add(upload(http, owner, FILE_BYTES));
            }
            for (Future<Integer> status : statuses) {
                assertThat(TestServer.await(status)).isEqualTo(201);
            }
        } finally {
            running.set(false);
            sampler.join();
            TestServer.await(http.close());
            TestServer.await(clientVertx.close());
        }
        long growth = peak.get() - baseline;
        System.out.printf(
                "upload heap: baseline %d MiB, peak live %d MiB, growth %.1f MiB%n",
                baseline >> 20, peak.get() >> 20, growth / 1048576.0);
        assertThat(growth).as("live heap growth in bytes").isLessThan(HEAP_BOUND);
    }

    /** After a full GC: a pause of every thread, the server's event loops included (see BlockedThreadWatch). */
    private static long liveHeap(MemoryMXBean memory) {
        BlockedThreadWatch.forceFullGc();
        return memory.getHeapMemoryUsage().getUsed();
    }

    /** One streamed upload whose client holds one 64 KiB chunk at a time; answers the status. */
    private static Future<Integer> upload(HttpClient http, TestUser owner, long size) {
        return http.request(new RequestOptions()
                        .setMethod(POST)
                        .setHost("localhost")
                        .setPort(server.config.http().httpsPort())
                        .setURI("/api/v1/documents")
                        .putHeader("Authorization", "Bearer " + owner.token())
                        .putHeader("Content-Type", Multipart.CONTENT_TYPE))
                .compose(request -> {
                    request.setChunked(true);
                    Future<Integer> status =
                            request.response().compose(resp -> resp.body().map(body -> resp.statusCode()));
                    request.write(Multipart.fileHead("big.pdf", "application/pdf"))
                            .compose(v -> writeFrom(request, SampleFiles.pdf(64 * 1024), size))
                            .compose(v -> request.end(Multipart.closing()));
                    return status;
                });
    }

    /** Writes the file in chunks, waiting for the connection to drain whenever its queue is full. */
    private static Future<Void> writeFrom(HttpClientRequest request, byte[] chunk, long size) {
        Promise<Void> done = Promise.promise();
        pump(request, chunk, 0, size, done);
        return done.future();
    }

    private static void pump(HttpClientRequest request, byte[] chunk, long sent, long size, Promise<Void> done) {
        long at = sent;
        for (int n = 0; n < 4 && at < size && !request.writeQueueFull(); n++) {
            request.write(Buffer.buffer(chunk));
            at += chunk.length;
        }
        if (at >= size) {
            done.complete();
            return;
        }
        long resumeAt = at;
        if (request.writeQueueFull()) {
            request.drainHandler(v -> pump(request, chunk, resumeAt, size, done));
        } else {
            Vertx.currentContext().runOnContext(v -> pump(request, chunk, resumeAt, size, done));
        }
    }
}
