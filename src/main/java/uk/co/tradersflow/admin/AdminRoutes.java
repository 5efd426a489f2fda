package uk.co.tradersflow.admin;

import static io.vertx.core.http.HttpMethod.GET;

import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import uk.co.tradersflow.platform.http.Api;
import uk.co.tradersflow.platform.http.PageRequest;
import uk.co.tradersflow.platform.http.RouteModule;

/**
 * The admin area's read routes ({@code /admin/api/accounts}, {@code /accounts/{id}},
 * {@code /audit}, {@code /analytics}), owners and support staff only: each parses its request,
 * calls {@link AdminService}, replies. Also the gate on every other path under {@code /admin}:
 * 401 or 403 before any 404, so an outsider cannot map which admin paths exist.
 */
public final class AdminRoutes implements RouteModule {
    private final AdminService service;

    public AdminRoutes(AdminService service) {
        this.service = service;
    }

    @Override
    public void mount(Router router, Api api) {
        api.owner(router, GET, "/admin/api/accounts").handler(this::accounts);
        api.owner(router, GET, "/admin/api/accounts/:id")
                .handler(ctx -> Api.reply(ctx, service.account(Api.pathId(ctx, "id")), 200, json -> json));
        api.owner(router, GET, "/admin/api/audit").handler(this::audit);
        api.owner(router, GET, "/admin/api/analytics")
                .handler(ctx -> Api.reply(ctx, service.analytics(), 200, Analytics::toJson));
        // "/admin/*" takes "/admin" itself too.
        api.ownerOnUnknownPaths(router, "/admin/*");
    }

    private void accounts(RoutingContext ctx) {
        PageRequest page = PageRequest.of(ctx);
        AccountQuery query = AccountQuery.of(
                page, ctx.request().getParam("query"), ctx.request().getParam("status"));
        Api.reply(
                ctx,
                service.accounts(query),
                200,
                rows -> page.reply(rows, AccountSummary::toJson, AccountSummary::position));
    }

    private void audit(RoutingContext ctx) {
        var p = ctx.request();
        AuditQuery query = AuditQuery.of(new AuditQuery.Params(
                p.getParam("accountId"),
                p.getParam("action"),
                p.getParam("actorId"),
                p.getParam("from"),
                p.getParam("to"),
                p.getParam("cursor"),
                p.getParam("limit")));
        Api.reply(ctx, service.audit(query), 200, json -> json);
    }
}
