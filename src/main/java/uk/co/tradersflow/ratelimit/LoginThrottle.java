package uk.co.tradersflow.ratelimit;

import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import java.time.Duration;
import java.util.List;
import uk.co.tradersflow.platform.redis.RedisKeys;

/**
 * Failed sign-ins per email (or per known device of that email) and the lockout they lead to:
 * after {@code maxFailures} within 15 minutes the subject is locked for the base lockout,
 * doubling with each further lockout within a day, capped at an hour. Kept in Redis, so every
 * instance sees the same counters and locks.
 */
public final class LoginThrottle {
  public static final Duration FAILURE_WINDOW = Duration.ofMinutes(15);
  private static final Duration CAP = Duration.ofHours(1);

  /** A failure was recorded; if it caused a lockout, {@code lockedFor} is its length and {@code lockout} its number. */
  public record Failure(boolean lockedNow, long lockedForSeconds, long lockout) {}

  // KEYS: failures, lock, lockouts. ARGV: max failures, window s, base lockout s, cap s.
  private static final String RECORD_FAILURE = """
      local n = redis.call('INCR', KEYS[1])
      if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
      if n >= tonumber(ARGV[1]) then
        local c = redis.call('INCR', KEYS[3])
        redis.call('EXPIRE', KEYS[3], 86400)
        local ttl = math.min(tonumber(ARGV[3]) * 2 ^ (c - 1), tonumber(ARGV[4]))
        redis.call('SET', KEYS[2], c, 'EX', math.floor(ttl))
        redis.call('DEL', KEYS[1])
        return {1, math.floor(ttl), c}
      end
      return {0, 0, 0}
      """;

  private final Redis redis;
  private final RedisKeys keys;
  private final RedisScript recordFailure;
  private final int maxFailures;
  private final Duration lockout;

  public LoginThrottle(Redis redis, RedisKeys keys, int maxFailures, Duration lockout) {
    this.redis = redis;
    this.keys = keys;
    this.recordFailure = new RedisScript(redis, RECORD_FAILURE);
    this.maxFailures = maxFailures;
    this.lockout = lockout;
  }

  /** Seconds the subject stays locked, 0 when it is not. */
  public Future<Long> lockedFor(String subject) {
    return redis.send(Request.cmd(Command.TTL).arg(keys.key("login", "lock", subject)))
        .map(r -> Math.max(0L, r.toLong()));
  }

  public Future<Failure> recordFailure(String subject) {
    return recordFailure.run(
            List.of(keys.key("login", "fail", subject), keys.key("login", "lock", subject), keys.key("login", "lockouts", subject)),
            List.of(Integer.toString(maxFailures), Long.toString(FAILURE_WINDOW.toSeconds()), Long.toString(lockout.toSeconds()),
                Long.toString(CAP.toSeconds())))
        .map(r -> new Failure(r.get(0).toInteger() == 1, r.get(1).toLong(), r.get(2).toLong()));
  }

  /** A successful sign-in forgets the subject's failures (not its lockout history). */
  public Future<Void> succeeded(String subject) {
    return redis.send(Request.cmd(Command.DEL).arg(keys.key("login", "fail", subject))).mapEmpty();
  }
}
