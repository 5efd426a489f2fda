package uk.co.tradersflow.ratelimit;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.platform.redis.RedisClients;
import uk.co.tradersflow.platform.security.Principal;

/**
 * Per-user API rate limit on every authenticated route ({@code TF_API_RATE_PER_SECOND},
 * {@code TF_API_BURST}), shared by all instances through Redis, with the contract's
 * {@code RateLimit-*} headers and 429 + {@code Retry-After}. When Redis is unreachable the API
 * keeps working on a per-instance budget of the same shape instead of failing: the session
 * checks come from PostgreSQL, not Redis, so only the limit's sharing is lost (a user may get the
 * budget once per instance). While Redis is down no request waits for it: one a second asks.
 *
 * <p>A user who asks often takes units from Redis a few at a time ({@link UserLease}) and spends
 * them here without asking again, topping up in the background; one who asks seldom asks Redis
 * on every request, as before. Units are taken from the shared bucket before they are spent, so
 * over time all instances together let a user through no more often than the rate. What leases
 * cost: an instance holds at most a lease and a half (15% of the burst) for up to
 * {@link UserLease#TTL}, so a burst can pass {@code TF_API_BURST} by what the instances hold at
 * that moment, and units that expire unspent are lost, so a user at the edge of the limit may
 * see a 429 that much early. With the default limits (50 a second, burst 100) a busy user costs
 * Redis one call per ten requests instead of one per request, and none of them waits for it.
 */
public final class ApiRateLimit implements Handler<RoutingContext> {
    private static final Logger log = LoggerFactory.getLogger(ApiRateLimit.class);

    private final RateLimiter limiter;
    private final int perSecond;
    private final int burst;
    private final int largestLease;
    private final Cache<UUID, UserLease> leases = Caffeine.newBuilder()
            .expireAfterAccess(Duration.ofMinutes(10))
            .maximumSize(100_000)
            .build();
    private final Cache<UUID, LocalBucket> fallback = Caffeine.newBuilder()
            .expireAfterAccess(Duration.ofMinutes(10))
            .maximumSize(100_000)
            .build();
    private volatile boolean redisDown;
    private static final long PROBE_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long PROBE_TIMEOUT_NANOS = RedisClients.CALL_TIMEOUT.toNanos();
    private final AtomicLong nextProbe = new AtomicLong(System.nanoTime());

    public ApiRateLimit(RateLimiter limiter, int perSecond, int burst) {
        this.limiter = limiter;
        this.perSecond = perSecond;
        this.burst = burst;
        this.largestLease = Math.max(1, burst / 10);
    }

    @Override
    public void handle(RoutingContext ctx) {
        UUID user = Principal.of(ctx).userId();
        UserLease lease = leases.get(user, id -> new UserLease(largestLease));
        RateLimiter.Decision spent = lease.spend(System.nanoTime());
        if (spent != null) {
            int topUp = lease.topUpSize(System.nanoTime());
            if (topUp > 0) {
                // In the background: this request has its unit; the next ones find the top-up there.
                limiter.takeUpTo("api:" + user, perSecond, Duration.ofSeconds(1), burst, topUp)
                        .onComplete(ar -> lease.toppedUp(ar.succeeded() ? ar.result() : null, System.nanoTime()));
            }
            answer(ctx, spent);
            return;
        }
        if (redisDown && !probeDue()) {
            // Known down: answer from this instance's budget at once rather than wait on every
            // request for a call that will fail (or, on a Redis that hangs, time out).
            answer(ctx, fallback.get(user, id -> new LocalBucket()).take(perSecond, burst));
            return;
        }
        int wanted = lease.nextSize(System.nanoTime());
        limiter.takeUpTo("api:" + user, perSecond, Duration.ofSeconds(1), burst, wanted)
                .onComplete(ar -> {
                    RateLimiter.Decision decision;
                    if (ar.succeeded()) {
                        if (redisDown) {
                            redisDown = false;
                            log.info("API rate limiting is shared through Redis again");
                        }
                        decision = lease.taken(ar.result(), System.nanoTime());
                    } else {
                        lease.failed();
                        // The next probe a second after this failure (a hung Redis took the timeout to say so).
                        nextProbe.set(System.nanoTime() + PROBE_INTERVAL_NANOS);
                        if (!redisDown) {
                            redisDown = true;
                            log.warn(
                                    "Redis unreachable for API rate limiting; using per-instance limits: {}",
                                    ar.cause().getMessage());
                        }
                        decision = fallback.get(user, id -> new LocalBucket()).take(perSecond, burst);
                    }
                    answer(ctx, decision);
                });
    }

    /** While Redis is down, one request a second asks it again; the first answer brings the shared limit back. */
    private boolean probeDue() {
        long now = System.nanoTime();
        long due = nextProbe.get();
        // Until this probe has its answer (at most the call timeout), no other request probes.
        return now - due >= 0 && nextProbe.compareAndSet(due, now + PROBE_INTERVAL_NANOS + PROBE_TIMEOUT_NANOS);
    }

    private static void answer(RoutingContext ctx, RateLimiter.Decision decision) {
        decision.quota().putOn(ctx.response());
        if (decision.allowed()) {
            ctx.next();
        } else {
            uk.co.tradersflow.platform.metrics.SecurityEvents.record(
                    uk.co.tradersflow.platform.metrics.SecurityEvents.Event.RATE_LIMITED);
            ctx.fail(AppError.retryAfter(
                    ErrorCode.RATE_LIMITED, "Too many requests; slow down", decision.retryAfterSeconds()));
        }
    }

    /**
     * The units this instance holds for one user, in batches as Redis gave them, each spendable for
     * {@link #TTL} from when it was taken, and how many to ask for next time. The size doubles, up
     * to a tenth of the burst, while the user asks again within a batch's lifetime, and halves when
     * a batch expires unspent: a user who asks seldom keeps asking Redis for one unit at a time,
     * and waits for each answer. Once half a lease is spent, the next is asked for in the
     * background, so a busy user's requests do not wait for Redis. One Redis call at a time asks
     * for a lease; requests that find nothing held while it is in flight ask for their own unit.
     * Both event loops may reach one user's lease, so its methods are synchronized.
     */
    static final class UserLease {
        static final long TTL = TimeUnit.SECONDS.toNanos(1);

        private static final class Batch {
            int units;
            final long expiresAt;

            Batch(int units, long expiresAt) {
                this.units = units;
                this.expiresAt = expiresAt;
            }
        }

        private final int largest;
        private final ArrayDeque<Batch> batches = new ArrayDeque<>();
        private int held;
        private int size = 1;
        private int fetching;
        private long takenAt;
        private RateLimiter.Decision last;
        private long lastBucketTime = Long.MIN_VALUE;

        UserLease(int largest) {
            this.largest = largest;
        }

        /** One held unit, with the headers' figures; {@code null} when none is left to spend. */
        synchronized RateLimiter.Decision spend(long now) {
            while (!batches.isEmpty() && now - batches.peekFirst().expiresAt >= 0) {
                held -= batches.removeFirst().units;
                size = Math.max(1, size / 2); // expired unspent: this user asks less often than the lease assumed
            }
            Batch oldest = batches.peekFirst();
            if (oldest == null) {
                return null;
            }
            held--;
            if (--oldest.units == 0) {
                batches.removeFirst();
            }
            return held();
        }

        /** How many units a request that found none held asks Redis for: a lease, or its own unit behind one in flight. */
        synchronized int nextSize(long now) {
            if (fetching++ > 0) {
                return 1;
            }
            if (last != null && now - takenAt < TTL) {
                size = Math.min(largest, size * 2); // asking again within a batch's lifetime: ask for more
            }
            return size;
        }

        /**
         * How many units to ask for in the background after a spend, or 0: only once half the lease
         * is spent, while no other call is in flight, and not while Redis's last answer left the
         * bucket empty.
         */
        synchronized int topUpSize(long now) {
            if (fetching > 0 || held > size / 2 || last.remaining() < 1) {
                return 0;
            }
            if (now - takenAt < TTL) {
                size = Math.min(largest, size * 2);
            }
            fetching++;
            return size;
        }

        /**
         * A waiting request's answer: what Redis gave is held, less the unit this request spends.
         * When Redis had none, a unit another call brought in meanwhile will do.
         */
        synchronized RateLimiter.Decision taken(RateLimiter.Lease lease, long now) {
            fetching--;
            if (lease.units() == 0) {
                RateLimiter.Decision fromHeld = spend(now);
                return fromHeld != null ? fromHeld : lease.decision();
            }
            hold(lease, lease.units() - 1, now);
            return held();
        }

        /** A background top-up's answer; {@code null} when the call failed (the next wait notices Redis is down). */
        synchronized void toppedUp(RateLimiter.Lease lease, long now) {
            fetching--;
            if (lease != null && lease.units() > 0) {
                hold(lease, lease.units(), now);
            }
        }

        /** A waiting request's call failed: it is answered from the per-instance fallback. */
        synchronized void failed() {
            fetching--;
        }

        private void hold(RateLimiter.Lease lease, int units, long now) {
            // A top-up and a waiting request's own unit can be in flight at once, and their answers
            // can arrive in either order: the headers take Redis's figures from the call it ran
            // last, or a unit answered late would show the bucket as it was before the top-up.
            if (lease.bucketTime() >= lastBucketTime) {
                last = lease.decision();
                lastBucketTime = lease.bucketTime();
            }
            takenAt = now;
            if (units > 0) {
                batches.addLast(new Batch(units, now + TTL));
                held += units;
            }
        }

        // Redis's figures are from when the last lease was taken; what is still held here is the user's too.
        private RateLimiter.Decision held() {
            return new RateLimiter.Decision(true, last.limit(), last.remaining() + held, last.resetSeconds(), 0);
        }
    }

    /** The same GCRA, in memory, for when Redis is away. */
    static final class LocalBucket {
        private final AtomicLong tat = new AtomicLong();

        synchronized RateLimiter.Decision take(int perSecond, int burst) {
            long now = System.nanoTime() / 1_000_000;
            long interval = Math.max(1, 1000L / perSecond);
            long tolerance = interval * (burst - 1);
            long current = Math.max(tat.get(), now);
            if (current - now > tolerance) {
                return new RateLimiter.Decision(
                        false,
                        burst,
                        0,
                        RateLimiter.ceilSeconds(current - now),
                        RateLimiter.ceilSeconds(current - now - tolerance));
            }
            long next = current + interval;
            tat.set(next);
            int remaining = (int) ((tolerance + interval - (next - now)) / interval);
            return new RateLimiter.Decision(true, burst, remaining, RateLimiter.ceilSeconds(next - now), 0);
        }
    }
}
