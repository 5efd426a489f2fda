package uk.co.tradersflow.auth;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.co.tradersflow.platform.bus.Addresses;
import uk.co.tradersflow.platform.bus.SessionRevoked;
import uk.co.tradersflow.platform.redis.RedisKeys;
import uk.co.tradersflow.platform.redis.RedisSubscriber;

/**
 * Spreads "this session is over" to every instance: published on this instance's event bus at
 * once and on a Redis channel for the others. The revocation itself is already committed in
 * Postgres before this is called; the signal only shortens the one-second cache window to
 * (nearly) nothing, and losing it costs at most that second.
 */
public final class SessionRevocations {
    private static final Logger log = LoggerFactory.getLogger(SessionRevocations.class);
    private static final String CHANNEL = "session-revoked";

    private final Vertx vertx;
    private final Redis redis;
    private final SessionStateCache cache;
    private final String channel;
    private final RedisSubscriber subscriber;

    public SessionRevocations(Vertx vertx, Redis redis, RedisKeys keys, SessionStateCache cache) {
        this.vertx = vertx;
        this.redis = redis;
        this.cache = cache;
        this.channel = keys.channel(CHANNEL);
        vertx.eventBus().<SessionRevoked>consumer(Addresses.SESSION_REVOKED, m -> cache.invalidate(m.body()));
        this.subscriber = new RedisSubscriber(
                vertx,
                redis,
                List.of(channel),
                (ch, payload) -> SessionRevoked.decode(payload)
                        .ifPresent(r -> vertx.eventBus().publish(Addresses.SESSION_REVOKED, r)),
                v -> cache.invalidateAll());
    }

    public Future<Void> start() {
        return subscriber.start();
    }

    public Future<Void> stop() {
        return subscriber.close();
    }

    /** Call after the revocation has committed. Never fails: a lost signal costs at most the cache window. */
    public Future<Void> publish(SessionRevoked revoked) {
        // This instance forgets at once (the bus delivers later, on another thread); other
        // verticles hear it on the bus, other instances through Redis.
        cache.invalidate(revoked);
        vertx.eventBus().publish(Addresses.SESSION_REVOKED, revoked);
        return redis.send(Request.cmd(Command.PUBLISH).arg(channel).arg(revoked.encode()))
                .<Void>mapEmpty()
                .recover(e -> {
                    log.warn(
                            "could not publish a session revocation to other instances ({}); they will see it within {}",
                            e.getMessage(),
                            SessionStateCache.MAX_AGE);
                    return Future.succeededFuture();
                });
    }
}
