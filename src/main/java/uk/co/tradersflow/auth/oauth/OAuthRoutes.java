package uk.co.tradersflow.auth.oauth;

import static io.vertx.core.http.HttpMethod.DELETE;
import static io.vertx.core.http.HttpMethod.GET;
import static io.vertx.core.http.HttpMethod.POST;

import io.vertx.core.Handler;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import uk.co.tradersflow.auth.SessionTokens;
import uk.co.tradersflow.platform.http.Api;
import uk.co.tradersflow.platform.http.ClientInfo;
import uk.co.tradersflow.platform.http.JsonInput;
import uk.co.tradersflow.platform.http.RouteModule;
import uk.co.tradersflow.platform.security.Principal;

/**
 * {@code POST /api/v1/auth/oauth/google} and {@code /apple} (sign-in with an ID token; a provider
 * without client ids answers 404 {@code provider_not_configured} before anything is counted), and
 * {@code GET /api/v1/me/identities}, {@code DELETE /api/v1/me/identities/{provider}}.
 */
public final class OAuthRoutes implements RouteModule {
    /** Google's ID tokens run to about 1.2 KB, Apple's less: this leaves room and bounds the parse. */
    static final int MAX_ID_TOKEN = 8192;

    private final OAuthSignInService signIn;
    private final IdentityService identities;
    private final Handler<RoutingContext> perIp;
    private final ClientInfo clients;

    OAuthRoutes(
            OAuthSignInService signIn, IdentityService identities, Handler<RoutingContext> perIp, ClientInfo clients) {
        this.signIn = signIn;
        this.identities = identities;
        this.perIp = perIp;
        this.clients = clients;
    }

    @Override
    public void mount(Router router, Api api) {
        for (String provider : new String[] {Provider.GOOGLE, Provider.APPLE}) {
            api.open(router, POST, "/api/v1/auth/oauth/" + provider)
                    .handler(ctx -> {
                        signIn.configured(provider);
                        ctx.next();
                    })
                    .handler(perIp)
                    .handler(ctx -> signIn(ctx, provider));
        }
        api.authenticated(router, GET, "/api/v1/me/identities").handler(this::list);
        api.authenticated(router, DELETE, "/api/v1/me/identities/:provider").handler(this::unlink);
    }

    private void signIn(RoutingContext ctx, String provider) {
        JsonInput in = JsonInput.of(ctx);
        String idToken = in.requiredText("idToken", MAX_ID_TOKEN);
        var nonce = in.optionalText("nonce", 512);
        var businessName = in.optionalText("businessName", 200);
        var deviceToken = in.optionalText("deviceToken", 300);
        in.validate();
        Api.reply(
                ctx,
                signIn.signIn(new OAuthSignInService.OAuthSignIn(
                        provider, idToken, nonce, businessName, deviceToken, clients.of(ctx))),
                200,
                SessionTokens::toJson);
    }

    private void list(RoutingContext ctx) {
        Api.reply(ctx, identities.identities(Principal.of(ctx)), 200, linked -> {
            JsonArray items = new JsonArray();
            linked.forEach(i -> items.add(new JsonObject()
                    .put("provider", i.provider())
                    .put("email", i.email().orElse(null))
                    .put("privateEmail", i.privateEmail())
                    .put("linkedAt", i.linkedAt().toString())
                    .put("lastUsedAt", i.lastUsedAt().toString())));
            return new JsonObject().put("items", items).putNull("nextCursor");
        });
    }

    private void unlink(RoutingContext ctx) {
        Api.noContent(ctx, identities.unlink(Principal.of(ctx), ctx.pathParam("provider"), clients.of(ctx)));
    }
}
