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
 *
 * <p>A password is checked only once its attempt is {@link #admit admitted}, which counts it as
 * a failure before the check starts; the attempt then settles as {@link #failed}, or gives its
 * place back ({@link #release}, {@link #succeeded}). So attempts sent at once cannot all pass a
 * "not locked yet" check while the first failures are still being hashed: no more than
 * {@code maxFailures} passwords are ever checked between lockouts, however many arrive together.
 */
public final class LoginThrottle {
  public static final Duration FAILURE_WINDOW = Duration.ofMinutes(15);
  private static final Duration CAP = Duration.ofHours(1);

  /** Whether an attempt may check its password now; if not, how long to wait. */
  public record Admission(boolean admitted, long retryAfterSeconds) {}

  /** A failure was recorded; if it caused a lockout, {@code lockedFor} is its length and {@code lockout} its number. */
  public record Failure(boolean lockedNow, long lockedForSeconds, long lockout) {}

  // KEYS: failures, lock. ARGV: max failures, window s. Refused while locked, and while the
  // attempts in flight already fill what is left before the lockout (they settle in a moment).
  private static final String ADMIT = """
      local locked = redis.call('TTL', KEYS[2])
      if locked > 0 then return {0, locked} end
      local n = redis.call('INCR', KEYS[1])
      if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
      if n > tonumber(ARGV[1]) then
        redis.call('DECR', KEYS[1])
        return {0, 1}
      end
      return {1, 0}
      """;

  // KEYS: failures, lock, lockouts. ARGV: max failures, base lockout s, cap s. The failure was
  // counted when its attempt was admitted; with attempts still in flight counted too, a lockout
  // may come an attempt early, never late.
  private static final String FAILED = """
      local n = tonumber(redis.call('GET', KEYS[1]) or '0')
      if n >= tonumber(ARGV[1]) then
        local c = redis.call('INCR', KEYS[3])
        redis.call('EXPIRE', KEYS[3], 86400)
        local ttl = math.min(tonumber(ARGV[2]) * 2 ^ (c - 1), tonumber(ARGV[3]))
        redis.call('SET', KEYS[2], c, 'EX', math.floor(ttl))
        redis.call('DEL', KEYS[1])
        return {1, math.floor(ttl), c}
      end
      return {0, 0, 0}
      """;

  // KEYS: failures. A lockout or a success may already have cleared the count: never below zero.
  private static final String RELEASE = """
      if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then redis.call('DECR', KEYS[1]) end
      return 1
      """;

  private final Redis redis;
  private final RedisKeys keys;
  private final RedisScript admit;
  private final RedisScript failed;
  private final RedisScript release;
  private final int maxFailures;
  private final Duration lockout;

  public LoginThrottle(Redis redis, RedisKeys keys, int maxFailures, Duration lockout) {
    this.redis = redis;
    this.keys = keys;
    this.admit = new RedisScript(redis, ADMIT);
    this.failed = new RedisScript(redis, FAILED);
    this.release = new RedisScript(redis, RELEASE);
    this.maxFailures = maxFailures;
    this.lockout = lockout;
  }

  /** Wrong passwords a subject may try within the window before it is locked: the {@code RateLimit-Limit} of a lockout. */
  public int maxFailures() {
    return maxFailures;
  }

  /** Admits one attempt to check a password, counting it as a failure until it settles. */
  public Future<Admission> admit(String subject) {
    return admit.run(List.of(failures(subject), lock(subject)),
            List.of(Integer.toString(maxFailures), Long.toString(FAILURE_WINDOW.toSeconds())))
        .map(r -> new Admission(r.get(0).toInteger() == 1, r.get(1).toLong()));
  }

  /** An admitted attempt's password was wrong: it stays counted, and may start a lockout. */
  public Future<Failure> failed(String subject) {
    return failed.run(List.of(failures(subject), lock(subject), keys.key("login", "lockouts", subject)),
            List.of(Integer.toString(maxFailures), Long.toString(lockout.toSeconds()), Long.toString(CAP.toSeconds())))
        .map(r -> new Failure(r.get(0).toInteger() == 1, r.get(1).toLong(), r.get(2).toLong()))
        .onSuccess(f -> { if (f.lockedNow()) uk.co.tradersflow.platform.metrics.SecurityEvents.record(uk.co.tradersflow.platform.metrics.SecurityEvents.Event.LOCKOUT); });
  }

  /** An admitted attempt ended without a wrong password (a right one, or an error on the way): it no longer counts. */
  public Future<Void> release(String subject) {
    return release.run(List.of(failures(subject)), List.of()).mapEmpty();
  }

  /** A successful sign-in forgets the subject's failures (not its lockout history). */
  public Future<Void> succeeded(String subject) {
    return redis.send(Request.cmd(Command.DEL).arg(failures(subject))).mapEmpty();
  }

  private String failures(String subject) {
    return keys.key("login", "fail", subject);
  }

  private String lock(String subject) {
    return keys.key("login", "lock", subject);
  }
}
