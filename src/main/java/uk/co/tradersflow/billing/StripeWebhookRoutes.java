package uk.co.tradersflow.billing;

import static io.vertx.core.http.HttpMethod.POST;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import uk.co.tradersflow.platform.http.Api;
import uk.co.tradersflow.platform.http.RouteModule;

/**
 * {@code POST /webhooks/stripe}: hands the raw body bytes and the signature header to
 * {@link StripeWebhookService} on this event loop and answers 200 once stored (or already stored),
 * 400 problem when the signature fails, 503 when no secret is configured or the store is down.
 */
public final class StripeWebhookRoutes implements RouteModule {
    private final StripeWebhookService service;

    public StripeWebhookRoutes(StripeWebhookService service) {
        this.service = service;
    }

    @Override
    public void mount(Router router, Api api) {
        router.route(POST, "/webhooks/stripe").handler(api.body()).handler(this::receive);
    }

    private void receive(RoutingContext ctx) {
        Buffer raw = ctx.body().buffer() == null ? Buffer.buffer() : ctx.body().buffer();
        Api.reply(
                ctx,
                service.receive(new StripeDelivery(raw, ctx.request().getHeader("Stripe-Signature"))),
                200,
                receipt -> new JsonObject().put("received", true).put("duplicate", receipt.duplicate()));
    }
}
