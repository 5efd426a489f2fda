package uk.co.tradersflow.platform.redis;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisClientType;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.RedisReplicas;
import io.vertx.redis.client.RedisRole;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.co.tradersflow.config.AppConfig;

/**
 * The server's one Redis client, for a single Redis, a Redis Cluster or a master watched by
 * Sentinel ({@code TF_REDIS_MODE}), and with every call bounded: a Redis that stops answering
 * (a hung process, a dropped network) fails each call after {@link #CALL_TIMEOUT} instead of
 * leaving requests waiting for good. The callers decide what a failed call means (sign-in: 503;
 * the API's rate limit: a per-instance budget; a revocation signal: the cache window).
 */
public final class RedisClients {
    private static final Logger log = LoggerFactory.getLogger(RedisClients.class);

    /**
     * Redis answers in well under a millisecond when healthy, and a request waits for at most a
     * couple of calls: a call not answered within a second is an outage, not load.
     */
    public static final Duration CALL_TIMEOUT = Duration.ofSeconds(1);

    private RedisClients() {}

    public static Redis create(Vertx vertx, AppConfig.RedisSettings settings) {
        log.info(
                "Redis: {} mode, {} {}",
                settings.mode().name().toLowerCase(java.util.Locale.ROOT),
                settings.urls().size(),
                switch (settings.mode()) {
                    case STANDALONE -> "server";
                    case CLUSTER -> "seed node(s)";
                    case SENTINEL -> "sentinel(s) watching " + settings.masterName();
                });
        return new Bounded(Redis.createClient(vertx, options(settings)), CALL_TIMEOUT);
    }

    /** The client's options for these settings; public for the tests of the modes. */
    public static RedisOptions options(AppConfig.RedisSettings settings) {
        // The pooled client holds a connection for each call in flight and does not pipeline calls
        // on it: with 16 connections, the invoice-list load's bursts of rate-limit calls waited 38 ms
        // on average for one; with 64, under 1 ms. Redis serves thousands of clients.
        RedisOptions options =
                new RedisOptions().setMaxPoolSize(64).setMaxPoolWaiting(4096).setMaxWaitingHandlers(8192);
        settings.urls().forEach(options::addConnectionString);
        switch (settings.mode()) {
            case STANDALONE -> options.setType(RedisClientType.STANDALONE);
            // Seed nodes: the client reads the slot map from the first that answers (and again every
            // second), and sends each call to the master that owns its keys.
            case CLUSTER -> options.setType(RedisClientType.CLUSTER).setUseReplicas(RedisReplicas.NEVER);
            // The sentinels name the current master (asked again at most every second), so after a
            // failover new calls reach the new master; the revocation subscription reconnects there.
            case SENTINEL ->
                options.setType(RedisClientType.SENTINEL)
                        .setMasterName(settings.masterName())
                        .setRole(RedisRole.MASTER);
        }
        // An address that drops packets would otherwise hold a pool slot for the default 60 s.
        options.getNetClientOptions().setConnectTimeout((int) CALL_TIMEOUT.toMillis());
        return options;
    }

    /** Every call fails after the timeout if Redis has not answered; a connection that comes too late is given back. */
    private static final class Bounded implements Redis {
        private final Redis redis;
        private final long timeoutMs;

        Bounded(Redis redis, Duration timeout) {
            this.redis = redis;
            this.timeoutMs = timeout.toMillis();
        }

        @Override
        public Future<RedisConnection> connect() {
            Future<RedisConnection> connecting = redis.connect();
            return connecting
                    .timeout(timeoutMs, TimeUnit.MILLISECONDS)
                    .onFailure(e -> connecting.onSuccess(RedisConnection::close));
        }

        @Override
        public Future<Void> close() {
            return redis.close();
        }

        @Override
        public Future<Response> send(Request command) {
            return redis.send(command).timeout(timeoutMs, TimeUnit.MILLISECONDS);
        }

        @Override
        public Future<List<Response>> batch(List<Request> commands) {
            return redis.batch(commands).timeout(timeoutMs, TimeUnit.MILLISECONDS);
        }
    }
}
