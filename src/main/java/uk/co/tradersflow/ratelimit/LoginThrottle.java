package uk.co.tradersflow.ratelimit;

import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.platform.metrics.SecurityEvents;
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
 *
 * <p>Every password check (sign-in, and the current-password confirmations of account changes)
 * goes through this one API: {@link #admitted}, then {@link #wrongPassword}, {@link #signedIn} or
 * {@link #settled}. Those answer in the contract's terms (429 while locked, 503 without Redis),
 * so callers never see Redis. The counts are kept per {@link Subject}.
 */
public final class LoginThrottle {
    public static final Duration FAILURE_WINDOW = Duration.ofMinutes(15);
    private static final Duration CAP = Duration.ofHours(1);

    /** Whether an attempt may check its password now; if not, how long to wait. */
    public record Admission(boolean admitted, long retryAfterSeconds) {}

    /** A failure was recorded; if it caused a lockout, {@code lockedFor} is its length and {@code lockout} its number. */
    public record Failure(boolean lockedNow, long lockedForSeconds, long lockout) {}

    /**
     * What failed password checks are counted under. A user's count, once an address names one, so
     * no second spelling of an address can start a fresh count; the address itself when it names
     * nobody. A known device or a signed-in session counts apart, under the user's.
     */
    public record Subject(String key) {
        public static Subject user(UUID userId) {
            return new Subject("user:" + userId);
        }

        /** An address that names no user (normalised by the caller, so each address has one count). */
        public static Subject unknownAddress(String normalisedEmail) {
            return new Subject("email:" + normalisedEmail);
        }

        /**
         * A sign-in provider's subject (Google, Apple) that names no user yet, by a digest of it
         * (the subject comes from a token not yet verified: its length is the sender's choice).
         */
        public static Subject identity(String provider, String subjectDigest) {
            return new Subject("identity:" + provider + ":" + subjectDigest);
        }

        /** Sign-ins from a device this user signed in on before: a guesser elsewhere cannot lock it out. */
        public Subject onDevice(UUID deviceId) {
            return new Subject(key + "|device:" + deviceId);
        }

        /** A signed-in session confirming its password: locking the sign-in does not stop its owner. */
        public Subject inSession(UUID sessionId) {
            return new Subject(key + "|session:" + sessionId);
        }
    }

    // KEYS: failures, lock. ARGV: max failures, window s. Refused while locked, and while the
    // attempts in flight already fill what is left before the lockout (they settle in a moment).
    private static final String ADMIT =
            """
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
    private static final String FAILED =
            """
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
    private static final String RELEASE =
            """
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
    private Future<Admission> admit(String subject) {
        return admit.run(
                        List.of(failures(subject), lock(subject)),
                        List.of(Integer.toString(maxFailures), Long.toString(FAILURE_WINDOW.toSeconds())))
                .map(r -> new Admission(r.get(0).toInteger() == 1, r.get(1).toLong()));
    }

    /** An admitted attempt's password was wrong: it stays counted, and may start a lockout. */
    private Future<Failure> failed(String subject) {
        return failed.run(
                        List.of(failures(subject), lock(subject), keys.tagged(subject, "login", "lockouts")),
                        List.of(
                                Integer.toString(maxFailures),
                                Long.toString(lockout.toSeconds()),
                                Long.toString(CAP.toSeconds())))
                .map(r -> new Failure(
                        r.get(0).toInteger() == 1, r.get(1).toLong(), r.get(2).toLong()))
                .onSuccess(f -> {
                    if (f.lockedNow()) {
                        SecurityEvents.record(SecurityEvents.Event.LOCKOUT);
                    }
                });
    }

    /** An admitted attempt ended without a wrong password (a right one, or an error on the way): it no longer counts. */
    private Future<Void> release(String subject) {
        return release.run(List.of(failures(subject)), List.of()).mapEmpty();
    }

    /** A successful sign-in forgets the subject's failures (not its lockout history). */
    private Future<Void> succeeded(String subject) {
        return redis.send(Request.cmd(Command.DEL).arg(failures(subject))).mapEmpty();
    }

    /**
     * Admits one password check for {@code subject}, or fails with 429 while it is locked or while
     * the attempts in flight already reach the limit, and with 503 without Redis.
     */
    public Future<Void> admitted(Subject subject) {
        return failClosed(admit(subject.key()))
                .compose(admission -> admission.admitted()
                        ? Future.succeededFuture()
                        : Future.failedFuture(
                                tooMany(maxFailures, admission.retryAfterSeconds(), admission.retryAfterSeconds())));
    }

    /** An admitted check found the password wrong: it stays counted; the answer says whether a lockout began. */
    public Future<Failure> wrongPassword(Subject subject) {
        return failClosed(failed(subject.key()));
    }

    /** An admitted check was a sign-in that succeeded: the subject's failures are forgotten. */
    public Future<Void> signedIn(Subject subject) {
        return failClosed(succeeded(subject.key()));
    }

    /**
     * Settles an admitted check that did not end on a wrong password (the right one, or an error on
     * the way): it gives its admission back, and {@code outcome} stands. A release that fails
     * leaves the attempt counted, which errs on the side of the lockout.
     */
    public <T> Future<T> settled(Subject subject, AsyncResult<T> outcome) {
        return release(subject.key())
                .otherwiseEmpty()
                .transform(ignored -> outcome.succeeded()
                        ? Future.succeededFuture(outcome.result())
                        : Future.failedFuture(outcome.cause()));
    }

    /** The 429 of every throttled sign-in path, the per-address limits' included. */
    public static AppError tooMany(int limit, long retryAfterSeconds, long resetSeconds) {
        SecurityEvents.record(SecurityEvents.Event.RATE_LIMITED);
        return AppError.rateLimited(
                ErrorCode.TOO_MANY_ATTEMPTS,
                "Too many sign-in attempts; try again later",
                limit,
                retryAfterSeconds,
                resetSeconds);
    }

    /** Sign-in fails closed without Redis: no counters means unlimited guessing, so answer 503 instead. */
    public static <T> Future<T> failClosed(Future<T> call) {
        return call.recover(e -> Future.failedFuture(
                AppError.of(ErrorCode.SERVICE_UNAVAILABLE, "Sign-in is temporarily unavailable; try again shortly")));
    }

    // One subject's keys share a hash tag (on a cluster): ADMIT and FAILED use them together.
    private String failures(String subject) {
        return keys.tagged(subject, "login", "fail");
    }

    private String lock(String subject) {
        return keys.tagged(subject, "login", "lock");
    }
}
