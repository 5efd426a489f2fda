package uk.co.tradersflow.billing;

import static io.vertx.core.http.HttpMethod.GET;
import static io.vertx.core.http.HttpMethod.POST;

import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import uk.co.tradersflow.platform.http.Api;
import uk.co.tradersflow.platform.http.ClientInfo;
import uk.co.tradersflow.platform.http.RouteModule;
import uk.co.tradersflow.platform.security.Principal;

/** {@code /api/v1/billing} (subscription checkout, portal, status) and {@code /api/v1/connect} (payouts onboarding). */
public final class BillingRoutes implements RouteModule {
    private final BillingService service;
    private final ClientInfo clients;

    public BillingRoutes(BillingService service, ClientInfo clients) {
        this.clients = clients;
        this.service = service;
    }

    @Override
    public void mount(Router router, Api api) {
        api.authenticated(router, POST, "/api/v1/billing/checkout-session").handler(this::checkout);
        api.authenticated(router, POST, "/api/v1/billing/portal-session").handler(this::portal);
        api.authenticated(router, GET, "/api/v1/billing/subscription").handler(this::subscription);
        api.authenticated(router, POST, "/api/v1/connect/onboarding-link").handler(this::onboarding);
        api.authenticated(router, GET, "/api/v1/connect/status").handler(this::connectStatus);
    }

    private void checkout(RoutingContext ctx) {
        Api.reply(ctx, service.checkoutSession(Principal.of(ctx), clients.of(ctx)), 200, BillingRoutes::url);
    }

    private void portal(RoutingContext ctx) {
        Api.reply(ctx, service.portalSession(Principal.of(ctx)), 200, BillingRoutes::url);
    }

    private void subscription(RoutingContext ctx) {
        Api.reply(ctx, service.billingAccount(Principal.of(ctx)), 200, BillingAccount::subscriptionJson);
    }

    private void onboarding(RoutingContext ctx) {
        Api.reply(ctx, service.onboardingLink(Principal.of(ctx), clients.of(ctx)), 200, BillingRoutes::url);
    }

    private void connectStatus(RoutingContext ctx) {
        Api.reply(ctx, service.billingAccount(Principal.of(ctx)), 200, BillingAccount::connectJson);
    }

    static JsonObject url(String url) {
        return new JsonObject().put("url", url);
    }
}
