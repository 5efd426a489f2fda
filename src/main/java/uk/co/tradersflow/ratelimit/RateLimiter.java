package uk.co.tradersflow.ratelimit;

import io.vertx.core.Future;
import io.vertx.redis.client.Redis;
import java.time.Duration;
import java.util.List;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.platform.redis.RedisKeys;

/**
 * GCRA rate limiting in Redis (the generic cell rate algorithm: a token bucket kept as one
 * timestamp per key). One atomic script call per check, on Redis's own clock, so every
 * instance shares the same budget for a key.
 */
public final class RateLimiter {
    /** The outcome, with what the {@code RateLimit-*} headers and {@code Retry-After} say. */
    public record Decision(boolean allowed, int limit, int remaining, long resetSeconds, long retryAfterSeconds) {
        /** The {@code RateLimit-*} headers this decision puts on the answer. */
        public AppError.Quota quota() {
            return new AppError.Quota(limit, remaining, resetSeconds);
        }
    }

    /**
     * Units taken at once: {@code units} of them (0 when refused), the decision for the first, and
     * {@code bucketTime}, the bucket's theoretical arrival time after this call on Redis's clock:
     * calls on one bucket are answered in the order Redis ran them when ordered by it, whatever
     * order their answers arrive in.
     */
    public record Lease(int units, Decision decision, long bucketTime) {}

    // KEYS[1] bucket; ARGV[1] emission interval ms; ARGV[2] burst; ARGV[3] units wanted.
    // Takes as many of the wanted units as the bucket holds, at least one or none.
    // Returns {units taken, remaining after them, reset ms, retry ms, the bucket's TAT after it}.
    private static final String GCRA =
            """
      local t = redis.call('TIME')
      local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
      local interval = tonumber(ARGV[1])
      local burst = tonumber(ARGV[2])
      local tolerance = interval * (burst - 1)
      local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
      if tat < now then tat = now end
      local available = math.floor((tolerance + interval - (tat - now)) / interval)
      if available < 1 then
        return {0, 0, tat - now, tat - now - tolerance, tat}
      end
      local units = math.min(tonumber(ARGV[3]), available)
      local new_tat = tat + units * interval
      redis.call('SET', KEYS[1], new_tat, 'PX', new_tat - now + 1000)
      return {units, available - units, new_tat - now, 0, new_tat}
      """;

    // KEYS[1] the window's log (a sorted set of times); ARGV[1] window ms; ARGV[2] limit; ARGV[3] a
    // unique member. Counts what happened in the last window exactly, however the times fall.
    // Returns {taken 1/0, remaining after it, ms until the oldest entry leaves the window}.
    private static final String SLIDING_WINDOW =
            """
      local t = redis.call('TIME')
      local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
      local window = tonumber(ARGV[1])
      local limit = tonumber(ARGV[2])
      redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
      local n = redis.call('ZCARD', KEYS[1])
      if n >= limit then
        local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
        return {0, 0, tonumber(oldest[2]) + window - now}
      end
      redis.call('ZADD', KEYS[1], now, ARGV[3])
      redis.call('PEXPIRE', KEYS[1], window)
      local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
      return {1, limit - n - 1, tonumber(oldest[2]) + window - now}
      """;

    private final RedisScript script;
    private final RedisScript slidingWindow;
    private final RedisKeys keys;

    public RateLimiter(Redis redis, RedisKeys keys) {
        this.script = new RedisScript(redis, GCRA);
        this.slidingWindow = new RedisScript(redis, SLIDING_WINDOW);
        this.keys = keys;
    }

    /**
     * Takes one of {@code limit} uses of {@code bucket} within any {@code window}, or none. Unlike
     * the token bucket of {@link #take}, which refills as it goes (3 an hour lets a 4th through 20
     * minutes later), this never lets more than {@code limit} through in any window: for caps
     * that promise "at most N an hour", such as mails sent to one address.
     */
    public Future<Decision> takeInWindow(String bucket, int limit, Duration window) {
        return slidingWindow
                .run(
                        List.of(keys.key("rlw", bucket)),
                        List.of(
                                Long.toString(window.toMillis()),
                                Integer.toString(limit),
                                java.util.UUID.randomUUID().toString()))
                .map(r -> {
                    boolean taken = r.get(0).toInteger() == 1;
                    long reset = ceilSeconds(r.get(2).toLong());
                    return new Decision(taken, limit, r.get(1).toInteger(), reset, taken ? 0 : reset);
                });
    }

    /** Takes one unit from {@code bucket}, which refills {@code limit} units per {@code period}, holding at most {@code burst}. */
    public Future<Decision> take(String bucket, int limit, Duration period, int burst) {
        return takeUpTo(bucket, limit, period, burst, 1).map(Lease::decision);
    }

    /**
     * Takes up to {@code wanted} units from {@code bucket} in one call: as many as it holds, or none
     * when it is empty. Units taken are spent as far as every other instance is concerned.
     */
    public Future<Lease> takeUpTo(String bucket, int limit, Duration period, int burst, int wanted) {
        long interval = Math.max(1, period.toMillis() / limit);
        return script.run(
                        List.of(keys.key("rl", bucket)),
                        List.of(Long.toString(interval), Integer.toString(burst), Integer.toString(wanted)))
                .map(r -> {
                    int units = r.get(0).toInteger();
                    return new Lease(
                            units,
                            new Decision(
                                    units > 0,
                                    burst,
                                    r.get(1).toInteger(),
                                    ceilSeconds(r.get(2).toLong()),
                                    ceilSeconds(r.get(3).toLong())),
                            r.get(4).toLong());
                });
    }

    static long ceilSeconds(long millis) {
        return (millis + 999) / 1000;
    }
}
