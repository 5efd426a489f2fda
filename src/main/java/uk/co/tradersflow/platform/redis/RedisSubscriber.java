package uk.co.tradersflow.platform.redis;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import io.vertx.redis.client.ResponseType;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Holds one subscribed Redis connection and reconnects with backoff when it drops. Messages on
 * the channels are handed to the handler as (channel, payload). Used to carry cross-instance
 * signals such as session revocation; the signal is a hint to drop a cache, never the state.
 */
public final class RedisSubscriber {
    private static final Logger log = LoggerFactory.getLogger(RedisSubscriber.class);

    private final Vertx vertx;
    private final Redis redis;
    private final List<String> channels;
    private final java.util.function.BiConsumer<String, String> handler;
    private final Handler<Void> onReconnect;
    private RedisConnection connection;
    private long backoffMs = 100;
    private boolean closed;

    public RedisSubscriber(
            Vertx vertx,
            Redis redis,
            List<String> channels,
            java.util.function.BiConsumer<String, String> handler,
            Handler<Void> onReconnect) {
        this.vertx = vertx;
        this.redis = redis;
        this.channels = channels;
        this.handler = handler;
        this.onReconnect = onReconnect;
    }

    public Future<Void> start() {
        return connect().recover(e -> {
            // Redis may be down at start-up; the server still starts and keeps trying.
            log.warn("redis subscription not established yet ({}); retrying", e.getMessage());
            scheduleReconnect();
            return Future.succeededFuture();
        });
    }

    private Future<Void> connect() {
        return redis.connect().compose(conn -> {
            connection = conn;
            conn.handler(this::onMessage);
            conn.exceptionHandler(e -> log.warn("redis subscription error: {}", e.getMessage()));
            conn.endHandler(v -> {
                if (!closed) {
                    log.warn("redis subscription connection closed; reconnecting");
                    // Anything published while we were away is lost: let the owner drop what it cached.
                    onReconnect.handle(null);
                    scheduleReconnect();
                }
            });
            Request subscribe = Request.cmd(Command.SUBSCRIBE);
            channels.forEach(subscribe::arg);
            return conn.send(subscribe).<Void>mapEmpty().onSuccess(v -> backoffMs = 100);
        });
    }

    private void scheduleReconnect() {
        if (closed) {
            return;
        }
        long delay = backoffMs;
        backoffMs = Math.min(backoffMs * 2, 5_000);
        vertx.setTimer(delay, id -> connect().onFailure(e -> scheduleReconnect()));
    }

    private void onMessage(Response message) {
        if (message.type() == ResponseType.PUSH
                && message.size() == 3
                && "message".equals(message.get(0).toString())) {
            handler.accept(message.get(1).toString(), message.get(2).toString());
        }
    }

    public Future<Void> close() {
        closed = true;
        return connection == null ? Future.succeededFuture() : connection.close();
    }
}
