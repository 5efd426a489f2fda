package uk.co.tradersflow.console;

import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import java.time.Clock;
import java.time.Duration;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.platform.redis.RedisKeys;

/**
 * The console session's idle clock, kept by the server: one Redis key per console session
 * holding when any instance last saw it used, with a TTL of the idle limit renewed on each use.
 * The cookie's own {@code lastSeenAt} is what one browser was last given; this record is what
 * the servers saw, so a cookie that still looks live (replayed from before the idle limit, or
 * sealed by an instance whose clock runs ahead) is refused once no instance has seen the session
 * for {@link ConsoleCookie#IDLE}.
 *
 * <p>Redis rather than the {@code sessions} table: the check runs on every console request, and
 * a write per page view to the sessions row would contend with the bearer guard's reads of it;
 * Redis already holds the state every instance must share (lockouts, rate limits), and a key
 * that expires by itself needs no sweeper. One key per script, so it is safe on a Redis Cluster.
 * The times compared are the server's clock (injected, so a test moves it); the key's TTL is a
 * second, real-time guard and its clean-up. When Redis cannot answer the console fails closed
 * (503): an idle limit that is not checked is not a limit.
 */
final class ConsoleIdle {
    private static final Logger log = LoggerFactory.getLogger(ConsoleIdle.class);
    /**
     * Live if seen within the limit: then the newer of the two times is kept and the TTL renewed.
     * Stale or missing: the key is removed, so that no later use revives it.
     */
    private static final String TOUCH =
            """
            local seen = redis.call('GET', KEYS[1])
            local now = tonumber(ARGV[1])
            local idle = tonumber(ARGV[2])
            if not seen or tonumber(seen) + idle <= now then
              redis.call('DEL', KEYS[1])
              return 0
            end
            if now > tonumber(seen) then
              redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
            else
              redis.call('PEXPIRE', KEYS[1], ARGV[2])
            end
            return 1""";

    private final Redis redis;
    private final RedisKeys keys;
    private final Clock clock;
    private final Duration idle;

    ConsoleIdle(Redis redis, RedisKeys keys, Clock clock) {
        this(redis, keys, clock, ConsoleCookie.IDLE);
    }

    ConsoleIdle(Redis redis, RedisKeys keys, Clock clock, Duration idle) {
        this.redis = redis;
        this.keys = keys;
        this.clock = clock;
        this.idle = idle;
    }

    /** A console session starts its idle clock (at sign-in). */
    Future<Void> open(UUID sessionId) {
        return redis.send(Request.cmd(Command.SET)
                        .arg(key(sessionId))
                        .arg(clock.millis())
                        .arg("PX")
                        .arg(idle.toMillis()))
                .transform(ar -> ar.succeeded() ? Future.<Void>succeededFuture() : unavailable(ar.cause()));
    }

    /** True (and the clock restarted) if some instance saw the session within the limit; false once it went idle. */
    Future<Boolean> touch(UUID sessionId) {
        // EVAL rather than EVALSHA: the script is a few hundred bytes and Redis caches its compiled form.
        return redis.send(Request.cmd(Command.EVAL)
                        .arg(TOUCH)
                        .arg(1)
                        .arg(key(sessionId))
                        .arg(clock.millis())
                        .arg(idle.toMillis()))
                .transform(ar ->
                        ar.succeeded() ? Future.succeededFuture(ar.result().toLong() == 1L) : unavailable(ar.cause()));
    }

    /** Signing out ends the record with the session. */
    Future<Void> close(UUID sessionId) {
        return redis.send(Request.cmd(Command.DEL).arg(key(sessionId)))
                .transform(ar -> ar.succeeded() ? Future.<Void>succeededFuture() : unavailable(ar.cause()));
    }

    private String key(UUID sessionId) {
        return keys.key("console", "seen", sessionId.toString());
    }

    private static <T> Future<T> unavailable(Throwable cause) {
        log.warn("console session check refused: Redis did not answer ({})", cause.toString());
        return Future.failedFuture(AppError.of(
                ErrorCode.SERVICE_UNAVAILABLE, "The console cannot check its session just now; try again shortly"));
    }
}
