package uk.co.tradersflow.email;

import static io.vertx.core.http.HttpMethod.GET;
import static io.vertx.core.http.HttpMethod.POST;

import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.UUID;
import uk.co.tradersflow.platform.http.Api;
import uk.co.tradersflow.platform.http.ClientInfo;
import uk.co.tradersflow.platform.http.PageRequest;
import uk.co.tradersflow.platform.http.RouteModule;
import uk.co.tradersflow.platform.security.Principal;

/** {@code /admin/api/emails…}, owners only: parses each request, calls {@link EmailAdminService}, replies. */
public final class EmailAdminRoutes implements RouteModule {
    private final EmailAdminService service;
    private final ClientInfo clients;

    public EmailAdminRoutes(EmailAdminService service, ClientInfo clients) {
        this.clients = clients;
        this.service = service;
    }

    @Override
    public void mount(Router router, Api api) {
        api.owner(router, GET, "/admin/api/emails").handler(this::list);
        api.owner(router, GET, "/admin/api/email/health")
                .handler(ctx -> Api.reply(ctx, service.health(), 200, EmailHealth.Stats::toJson));
        api.owner(router, POST, "/admin/api/emails/:id/requeue").handler(this::requeue);
    }

    private void list(RoutingContext ctx) {
        PageRequest page = PageRequest.of(ctx);
        EmailLogQuery query = EmailLogQuery.of(
                page, ctx.request().getParam("recipient"), ctx.request().getParam("status"));
        Api.reply(
                ctx,
                service.log(query),
                200,
                entries -> page.reply(entries, EmailLogEntry::toJson, EmailLogEntry::position));
    }

    private void requeue(RoutingContext ctx) {
        UUID id = Api.pathId(ctx, "id");
        Api.reply(ctx, service.requeue(Principal.of(ctx), clients.of(ctx), id), 202, queued -> new JsonObject()
                .put("id", queued.toString())
                .put("status", "queued"));
    }
}
