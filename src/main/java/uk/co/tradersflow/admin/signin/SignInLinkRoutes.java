package uk.co.tradersflow.admin.signin;

import static io.vertx.core.http.HttpMethod.GET;

import io.vertx.core.Future;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;
import uk.co.tradersflow.auth.SessionTokens;
import uk.co.tradersflow.platform.http.Api;
import uk.co.tradersflow.platform.http.ClientInfo;
import uk.co.tradersflow.platform.http.RouteModule;
import uk.co.tradersflow.ratelimit.LoginThrottle;
import uk.co.tradersflow.ratelimit.RateLimiter;

/**
 * {@code GET /api/v1/auth/signin-link?token=}: an open route (the token is the credential),
 * limited per client address like password sign-in, so tokens cannot be guessed at speed.
 */
public final class SignInLinkRoutes implements RouteModule {
    private final SignInLinkService links;
    private final RateLimiter limiter;
    private final int perIpPerMinute;
    private final ClientInfo clients;

    SignInLinkRoutes(SignInLinkService links, RateLimiter limiter, int perIpPerMinute, ClientInfo clients) {
        this.links = links;
        this.limiter = limiter;
        this.perIpPerMinute = perIpPerMinute;
        this.clients = clients;
    }

    @Override
    public void mount(Router router, Api api) {
        api.open(router, GET, SignInLinkService.PATH).handler(this::redeem);
    }

    private void redeem(RoutingContext ctx) {
        ClientInfo.Client client = clients.of(ctx);
        String token = ctx.queryParams().get("token");
        if (io.vertx.core.http.HttpMethod.HEAD.equals(ctx.request().method())) {
            // A link checker's HEAD must not spend the one use: same answer, nothing spent.
            Api.reply(
                    ctx,
                    allowed(ctx, client.ip())
                            .compose(v -> links.usable(token))
                            .compose(ok -> ok ? Future.succeededFuture(ok) : Future.failedFuture(invalidLink())),
                    200,
                    ok -> new io.vertx.core.json.JsonObject());
            return;
        }
        Api.reply(ctx, allowed(ctx, client.ip()).compose(v -> links.redeem(token, client)), 200, SessionTokens::toJson);
    }

    private static uk.co.tradersflow.error.AppError invalidLink() {
        return uk.co.tradersflow.error.AppError.of(
                uk.co.tradersflow.error.ErrorCode.INVALID_TOKEN,
                "This sign-in link is not valid: it is unknown, used or expired");
    }

    /** The sign-in routes' per-address budget, its headers on the answer; 429 over it, 503 without Redis. */
    private Future<Void> allowed(RoutingContext ctx, String ip) {
        return LoginThrottle.failClosed(limiter.take(
                        "signin-link-ip:" + ClientInfo.limitKey(ip),
                        perIpPerMinute,
                        Duration.ofMinutes(1),
                        perIpPerMinute))
                .compose(d -> {
                    if (!d.allowed()) {
                        return Future.<Void>failedFuture(
                                LoginThrottle.tooMany(d.limit(), d.retryAfterSeconds(), d.resetSeconds()));
                    }
                    d.quota().putOn(ctx.response());
                    return Future.<Void>succeededFuture();
                });
    }
}
