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

/**
 * Owners' view of the Stripe event log: {@code GET /admin/api/webhooks?status=failed} and
 * {@code POST /admin/api/webhooks/{eventId}/replay} (audited; the event is handled again at once).
 */
public final class WebhookAdminRoutes implements RouteModule {
    private final WebhookAdminService service;
    private final ClientInfo clients;

    public WebhookAdminRoutes(WebhookAdminService service, ClientInfo clients) {
        this.clients = clients;
        this.service = service;
    }

    @Override
    public void mount(Router router, Api api) {
        api.owner(router, GET, "/admin/api/webhooks").handler(this::list);
        api.owner(router, POST, "/admin/api/webhooks/:eventId/replay").handler(this::replay);
    }

    private void list(RoutingContext ctx) {
        var query = WebhookAdminService.EventLogQuery.parse(
                ctx.request().getParam("status"),
                ctx.request().getParam("limit"),
                ctx.request().getParam("cursor"));
        Api.reply(ctx, service.list(query), 200, page -> page);
    }

    private void replay(RoutingContext ctx) {
        String id = ctx.pathParam("eventId");
        Api.reply(
                ctx,
                service.replay(new WebhookAdminService.Replay(id, Principal.of(ctx), clients.of(ctx))),
                200,
                v -> new JsonObject().put("id", id).put("status", "pending"));
    }
}
