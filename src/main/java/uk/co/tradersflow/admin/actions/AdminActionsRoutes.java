package uk.co.tradersflow.admin.actions;

import static io.vertx.core.http.HttpMethod.POST;

import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.Optional;
import uk.co.tradersflow.platform.http.Api;
import uk.co.tradersflow.platform.http.ClientInfo;
import uk.co.tradersflow.platform.http.JsonInput;
import uk.co.tradersflow.platform.http.RouteModule;
import uk.co.tradersflow.platform.security.Principal;

/**
 * {@code POST /admin/api/actions} (202: stored, nothing done yet) and
 * {@code POST /admin/api/actions/{id}/confirm} (200 {@code {result}}: performed once). Staff
 * routes: owners and support staff pass the gate, and the service decides what each may do.
 */
public final class AdminActionsRoutes implements RouteModule {
    private final AdminActionsService service;
    private final ClientInfo clients;

    public AdminActionsRoutes(AdminActionsService service, ClientInfo clients) {
        this.service = service;
        this.clients = clients;
    }

    @Override
    public void mount(Router router, Api api) {
        api.staff(router, POST, "/admin/api/actions").handler(this::request);
        api.staff(router, POST, "/admin/api/actions/:id/confirm").handler(this::confirm);
    }

    private void request(RoutingContext ctx) {
        var cmd = new AdminActionsService.Request(Principal.of(ctx), clients.of(ctx), JsonInput.object(ctx));
        Api.reply(ctx, service.request(cmd), 202, AdminActionsService.Proposed::toJson);
    }

    private void confirm(RoutingContext ctx) {
        var id = Api.pathId(ctx, "id");
        Object token = JsonInput.object(ctx).getValue("confirmationToken");
        var cmd = new AdminActionsService.Confirm(
                id,
                token instanceof String s && !s.isBlank() && s.length() <= 200 ? Optional.of(s) : Optional.empty(),
                Principal.of(ctx),
                clients.of(ctx));
        Api.reply(ctx, service.confirm(cmd), 200, result -> result);
    }
}
