package uk.co.tradersflow.billing;

import static io.vertx.core.http.HttpMethod.POST;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.platform.bus.Addresses;
import uk.co.tradersflow.platform.http.Api;
import uk.co.tradersflow.platform.http.RouteModule;

/**
 * {@code POST /webhooks/stripe}: hands the raw body bytes and the signature header to
 * {@link StripeWebhookVerticle} and answers with its verdict: 200 once stored (or already
 * stored), 400 problem when the signature fails, 503 when no secret is configured.
 */
public final class StripeWebhookRoutes implements RouteModule {
  private static final DeliveryOptions DELIVERY = new DeliveryOptions().setSendTimeout(5_000);
  private final boolean configured;

  public StripeWebhookRoutes(boolean configured) {
    this.configured = configured;
  }

  @Override
  public void mount(Router router, Api api) {
    router.route(POST, "/webhooks/stripe").handler(api.body()).handler(this::receive);
  }

  private void receive(RoutingContext ctx) {
    if (!configured) {
      ctx.fail(AppError.of(ErrorCode.WEBHOOK_NOT_CONFIGURED, "Stripe webhooks are not configured on this server"));
      return;
    }
    Buffer raw = ctx.body().buffer() == null ? Buffer.buffer() : ctx.body().buffer();
    StripeDelivery delivery = new StripeDelivery(raw, ctx.request().getHeader("Stripe-Signature"));
    ctx.vertx().eventBus().<WebhookVerdict>request(Addresses.STRIPE_WEBHOOK, delivery, DELIVERY).onComplete(ar -> {
      if (ar.failed()) {
        ctx.fail(AppError.of(ErrorCode.SERVICE_UNAVAILABLE, "The event could not be stored; Stripe will retry"));
        return;
      }
      WebhookVerdict v = ar.result().body();
      if (!v.accepted()) {
        ctx.fail(AppError.of(ErrorCode.INVALID_SIGNATURE, "The Stripe-Signature header does not verify"));
        return;
      }
      Api.json(ctx, 200, new JsonObject().put("received", true).put("duplicate", v.duplicate()));
    });
  }
}
