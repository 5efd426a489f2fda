package uk.co.tradersflow.ratelimit;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.co.tradersflow.auth.Principal;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;

/**
 * Per-user API rate limit on every authenticated route ({@code TF_API_RATE_PER_SECOND},
 * {@code TF_API_BURST}), shared by all instances through Redis, with the contract's
 * {@code RateLimit-*} headers and 429 + {@code Retry-After}. When Redis is unreachable the API
 * keeps working on a per-instance budget of the same shape instead of failing.
 */
public final class ApiRateLimit implements Handler<RoutingContext> {
  private static final Logger log = LoggerFactory.getLogger(ApiRateLimit.class);

  private final RateLimiter limiter;
  private final int perSecond;
  private final int burst;
  private final Cache<java.util.UUID, LocalBucket> fallback = Caffeine.newBuilder()
      .expireAfterAccess(Duration.ofMinutes(10)).maximumSize(100_000).build();
  private volatile boolean redisDown;

  public ApiRateLimit(RateLimiter limiter, int perSecond, int burst) {
    this.limiter = limiter;
    this.perSecond = perSecond;
    this.burst = burst;
  }

  @Override
  public void handle(RoutingContext ctx) {
    Principal me = Principal.of(ctx);
    limiter.take("api:" + me.userId(), perSecond, Duration.ofSeconds(1), burst).onComplete(ar -> {
      RateLimiter.Decision decision;
      if (ar.succeeded()) {
        if (redisDown) {
          redisDown = false;
          log.info("API rate limiting is shared through Redis again");
        }
        decision = ar.result();
      } else {
        if (!redisDown) {
          redisDown = true;
          log.warn("Redis unreachable for API rate limiting; using per-instance limits: {}", ar.cause().getMessage());
        }
        decision = fallback.get(me.userId(), id -> new LocalBucket()).take(perSecond, burst);
      }
      ctx.response().putHeader("RateLimit-Limit", Integer.toString(decision.limit()))
          .putHeader("RateLimit-Remaining", Integer.toString(Math.max(0, decision.remaining())))
          .putHeader("RateLimit-Reset", Long.toString(decision.resetSeconds()));
      if (decision.allowed()) {
        ctx.next();
      } else {
        ctx.fail(AppError.retryAfter(ErrorCode.RATE_LIMITED, "Too many requests; slow down", decision.retryAfterSeconds()));
      }
    });
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
        return new RateLimiter.Decision(false, burst, 0, RateLimiter.ceilSeconds(current - now),
            RateLimiter.ceilSeconds(current - now - tolerance));
      }
      long next = current + interval;
      tat.set(next);
      int remaining = (int) ((tolerance + interval - (next - now)) / interval);
      return new RateLimiter.Decision(true, burst, remaining, RateLimiter.ceilSeconds(next - now), 0);
    }
  }
}
