package uk.co.tradersflow.email;

import static io.vertx.core.http.HttpMethod.POST;

import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import uk.co.tradersflow.platform.http.Api;
import uk.co.tradersflow.platform.http.RouteModule;

/** {@code POST /webhooks/email}: hands the raw delivery to {@link EmailWebhookService} and replies. */
public final class EmailWebhookRoutes implements RouteModule {
    private final EmailWebhookService service;

    public EmailWebhookRoutes(EmailWebhookService service) {
        this.service = service;
    }

    @Override
    public void mount(Router router, Api api) {
        api.open(router, POST, "/webhooks/email").handler(this::receive);
    }

    private void receive(RoutingContext ctx) {
        byte[] body = ctx.body() == null || ctx.body().buffer() == null
                ? new byte[0]
                : ctx.body().buffer().getBytes();
        var delivery = new EmailWebhookService.Delivery(
                header(ctx, "id"), header(ctx, "timestamp"), header(ctx, "signature"), body);
        Api.reply(ctx, service.receive(delivery), 200, EmailWebhookService.Receipt::toJson);
    }

    /** Standard Webhooks headers, or the same ones with the {@code svix-} prefix. */
    private static String header(RoutingContext ctx, String name) {
        String value = ctx.request().getHeader("webhook-" + name);
        return value != null ? value : ctx.request().getHeader("svix-" + name);
    }
}
