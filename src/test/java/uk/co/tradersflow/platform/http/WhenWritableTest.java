package uk.co.tradersflow.platform.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.streams.WriteStream;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.Test;

/**
 * A write that waits for room runs once, at the first drain: not again at every later one, where
 * Vert.x calls a drain handler left set (a download sent a part twice and read its file twice at
 * once so).
 */
class WhenWritableTest {
    @Test
    void aWriteRunsAtOnceWhenTheStreamHasRoom() {
        Stream out = new Stream();
        AtomicInteger runs = new AtomicInteger();
        WhenWritable.run(out, runs::incrementAndGet);
        assertThat(runs).hasValue(1);
        assertThat(out.drainHandler).isNull();
    }

    @Test
    void aWriteThatWaitsForRoomRunsAtTheFirstDrainAndNeverAgain() {
        Stream out = new Stream();
        out.full = true;
        AtomicInteger runs = new AtomicInteger();
        WhenWritable.run(out, runs::incrementAndGet);
        assertThat(runs).hasValue(0);
        out.drain();
        assertThat(runs).hasValue(1);
        assertThat(out.drainHandler).as("the handler cleared itself").isNull();
        out.full = true;
        out.drain();
        out.drain();
        assertThat(runs).as("later drains run nothing").hasValue(1);
    }

    /**
     * Against a real response: the stream is filled while its client does not read, drains, and is
     * filled and drained again three more times. A plain drain handler runs again at the later
     * drains (why this class exists); the write given to {@link WhenWritable} at the first only.
     */
    @Test
    void onARealResponseAPlainDrainHandlerRunsAgainAtLaterDrainsAndTheWriteOnlyOnce() throws Exception {
        Vertx vertx = Vertx.vertx();
        try {
            assertThat(runsOver(vertx, (response, runs) -> response.drainHandler(v -> runs.incrementAndGet())))
                    .as("a plain drain handler, set once, runs at later drains too (a refill that finds the"
                            + " queue still full, or the last drain after the end, adds none)")
                    .isGreaterThanOrEqualTo(2);
            assertThat(runsOver(vertx, (response, runs) -> WhenWritable.run(response, runs::incrementAndGet)))
                    .as("the write given to WhenWritable")
                    .isEqualTo(1);
        } finally {
            vertx.close().await(10, TimeUnit.SECONDS);
        }
    }

    /** How often what {@code wait} sets up on a full response runs while it drains four times. */
    private static int runsOver(Vertx vertx, BiConsumer<HttpServerResponse, AtomicInteger> wait) throws Exception {
        AtomicInteger runs = new AtomicInteger();
        Buffer part = Buffer.buffer(new byte[1024 * 1024]);
        HttpServer server = vertx.createHttpServer()
                .requestHandler(request -> {
                    HttpServerResponse response = request.response().setChunked(true);
                    fill(response, part);
                    wait.accept(response, runs);
                    AtomicInteger rounds = new AtomicInteger();
                    vertx.setPeriodic(100, id -> {
                        if (rounds.incrementAndGet() > 3) {
                            vertx.cancelTimer(id);
                            response.end();
                        } else {
                            fill(response, part);
                        }
                    });
                })
                .listen(0, "127.0.0.1")
                .await(10, TimeUnit.SECONDS);
        HttpClient client = vertx.createHttpClient();
        try {
            HttpClientResponse response = client.request(HttpMethod.GET, server.actualPort(), "127.0.0.1", "/")
                    .compose(HttpClientRequest::send)
                    .await(10, TimeUnit.SECONDS);
            Promise<Void> ended = Promise.promise();
            response.handler(b -> {}).endHandler(v -> ended.complete());
            // Not read until the server has filled its queue; then read as fast as it comes.
            response.pause();
            vertx.setTimer(50, t -> response.resume());
            ended.future().await(30, TimeUnit.SECONDS);
            return runs.get();
        } finally {
            client.close().await(10, TimeUnit.SECONDS);
            server.close().await(10, TimeUnit.SECONDS);
        }
    }

    private static void fill(HttpServerResponse response, Buffer part) {
        while (!response.writeQueueFull()) {
            response.write(part);
        }
    }

    /** A stream as Vert.x's are: the drain handler is kept after it is called. */
    private static final class Stream implements WriteStream<Buffer> {
        boolean full;
        Handler<Void> drainHandler;

        void drain() {
            full = false;
            if (drainHandler != null) {
                drainHandler.handle(null);
            }
        }

        @Override
        public boolean writeQueueFull() {
            return full;
        }

        @Override
        public WriteStream<Buffer> drainHandler(Handler<Void> handler) {
            this.drainHandler = handler;
            return this;
        }

        @Override
        public WriteStream<Buffer> exceptionHandler(Handler<Throwable> handler) {
            return this;
        }

        @Override
        public Future<Void> write(Buffer data) {
            return Future.succeededFuture();
        }

        @Override
        public Future<Void> end() {
            return Future.succeededFuture();
        }

        @Override
        public WriteStream<Buffer> setWriteQueueMaxSize(int maxSize) {
            return this;
        }
    }
}
