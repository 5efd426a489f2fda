package uk.co.tradersflow.auth;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;
import java.util.HexFormat;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.platform.http.ClientInfo;
import uk.co.tradersflow.ratelimit.LoginThrottle;
import uk.co.tradersflow.ratelimit.RateLimiter;

/**
 * The auth flows' request limits, apart from the password lockout ({@link LoginThrottle}): per
 * address of the caller (sign-up, sign-in, reset), and per recipient of the mails a flow sends
 * (reset, email change). All through Redis, so every instance shares the counts.
 */
public final class AuthLimits {
    private static final Logger log = LoggerFactory.getLogger(AuthLimits.class);
    /** Reset mails to one address in any hour, whoever asks from wherever (the contract's cap). */
    static final int RESET_MAILS_PER_HOUR = 3;
    /** Email-change requests per user in any hour: each mails a confirmation to an address of the user's choosing. */
    static final int EMAIL_CHANGES_PER_HOUR = 3;

    private final RateLimiter limiter;
    private final int ipLimitPerMinute;

    AuthLimits(RateLimiter limiter, int ipLimitPerMinute) {
        this.limiter = limiter;
        this.ipLimitPerMinute = ipLimitPerMinute;
    }

    /**
     * The per-client-IP limit of an open sign-in route, ahead of its handler (the client's address
     * is the edge's concern, not the use case's): an answer within it carries its
     * {@code RateLimit-*} headers, so a client sees its budget shrink before it meets the 429
     * (the contract's rule for every rate-limited answer); 503 without Redis. Every way of signing
     * in ("login": password, Google, Apple) shares one budget per address.
     */
    public Handler<RoutingContext> perIp(String action, ClientInfo clients) {
        return ctx -> ipAllowed(action, clients.of(ctx).ip()).onComplete(ar -> {
            if (ar.failed()) {
                ctx.fail(ar.cause());
                return;
            }
            ar.result().putOn(ctx.response());
            ctx.next();
        });
    }

    /**
     * {@code action} ("signup", "login", "reset") from this IP: the budget left, for the answer's
     * {@code RateLimit-*} headers; 429 over the limit, 503 without Redis.
     */
    Future<AppError.Quota> ipAllowed(String action, String ip) {
        return LoginThrottle.failClosed(limiter.take(
                        action + "-ip:" + ClientInfo.limitKey(ip),
                        ipLimitPerMinute,
                        Duration.ofMinutes(1),
                        ipLimitPerMinute))
                .compose(d -> d.allowed()
                        ? Future.succeededFuture(d.quota())
                        : Future.failedFuture(
                                LoginThrottle.tooMany(d.limit(), d.retryAfterSeconds(), d.resetSeconds())));
    }

    /**
     * The per-IP limit alone let 20 requests from 20 addresses send 20 mails with 20 live links:
     * the cap is per recipient, shared by every instance through Redis. Keyed by a hash, so Redis
     * holds no addresses.
     */
    Future<Boolean> resetMailAllowed(EmailAddress email) {
        String bucket = "reset-mail:" + HexFormat.of().formatHex(SecretTokens.hash(email.value()));
        return limiter.takeInWindow(bucket, RESET_MAILS_PER_HOUR, Duration.ofHours(1))
                .map(d -> {
                    if (!d.allowed()) {
                        log.info(
                                "password reset mail not sent: its address had {} in the last hour",
                                RESET_MAILS_PER_HOUR);
                    }
                    return d.allowed();
                });
    }

    /**
     * Each email-change request mails whichever address the user names: without a cap a signed-in
     * user could mail a third party over and over. Without Redis the request fails (503) and mails
     * nothing. The decision is answered so the caller can tell the client what is left.
     */
    Future<RateLimiter.Decision> emailChangeAllowed(UUID userId) {
        return LoginThrottle.failClosed(
                        limiter.takeInWindow("email-change:" + userId, EMAIL_CHANGES_PER_HOUR, Duration.ofHours(1)))
                .compose(d -> d.allowed()
                        ? Future.succeededFuture(d)
                        : Future.failedFuture(AppError.rateLimited(
                                ErrorCode.RATE_LIMITED,
                                "Too many email change requests; try again later",
                                d.limit(),
                                d.retryAfterSeconds(),
                                d.resetSeconds())));
    }
}
