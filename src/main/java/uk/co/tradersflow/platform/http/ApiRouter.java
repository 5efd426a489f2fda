package uk.co.tradersflow.platform.http;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import java.util.List;

/**
 * The HTTPS listener's router: every capability's routes, then what holds for all of them. GET
 * routes answer HEAD (Vert.x routes HEAD only where a route names it); a known path asked with a
 * method none of its routes takes answers 405 with {@code Allow}, an unknown one 404; browsers
 * are let in from the configured origins only; failures leave through the one problem responder.
 */
public final class ApiRouter {
    private ApiRouter() {}

    public static Router create(Vertx vertx, Api api, List<RouteModule> modules, List<String> corsOrigins) {
        Router router = Router.router(vertx);
        modules.forEach(m -> m.mount(router, api));
        answerHeadWhereGet(router);
        RouteTable table = RouteTable.of(router.getRoutes());

        // Mounted last, ordered first: these run ahead of every capability's routes.
        Route front = router.route()
                .order(-1)
                .handler(new RequestIds())
                .handler(new SecurityHeaders(true))
                .handler(new RequestLog(table));
        CrossOrigin.of(corsOrigins).ifPresent(front::handler);
        front.handler(new QueryCheck());

        router.route().last().handler(ctx -> {
            var allowed = table.allowed(ctx.normalizedPath());
            if (allowed.isEmpty()) {
                ctx.fail(404);
                return;
            }
            ctx.response().putHeader("Allow", RouteTable.allowHeader(allowed));
            ctx.fail(405);
        });
        router.route().failureHandler(ProblemResponder::handle);
        return router;
    }

    /**
     * Adds HEAD to every route that answers GET. The handler runs as for GET; the server sends the
     * status and headers and drops the body (leaving out the Content-Length it would have computed
     * from it, as RFC 9110 allows for HEAD).
     */
    public static void answerHeadWhereGet(Router router) {
        for (Route route : router.getRoutes()) {
            if (route.methods() != null && route.methods().contains(HttpMethod.GET)) {
                route.method(HttpMethod.HEAD);
            }
        }
    }
}
