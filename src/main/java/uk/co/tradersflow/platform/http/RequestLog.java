package uk.co.tradersflow.platform.http;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One line per request: id, method, route template (never the raw path with ids or tokens in
 * its query), status and latency. Query strings are never logged: signed URLs carry secrets there.
 * Templates are written as the contract writes them ({@code /api/v1/customers/{id}}); a path no
 * route knows is {@code route=unmatched}.
 *
 * <p>The status is the one the client got. When the connection closed before any answer (the
 * client gave up, or the codec refused its bytes and Vert.x closed it) the end handler runs
 * before the failure handler has classified the failure, and the response still says its
 * default 200: the line then waits one turn of the event loop for the status the failure
 * handler recorded with {@link #unanswered}, or says 499 (client closed request).
 */
public final class RequestLog implements Handler<RoutingContext> {
    /** nginx's "client closed request": the connection ended before there was an answer. */
    public static final int CLIENT_CLOSED = 499;

    private static final String UNANSWERED_STATUS = "tf.request-log.unanswered-status";
    private static final Logger log = LoggerFactory.getLogger("tradersflow.request");

    private final RouteTable routes;

    public RequestLog(RouteTable routes) {
        this.routes = routes;
    }

    /** The status this request would have had, for the line of a request whose client never got one. */
    public static void unanswered(RoutingContext ctx, int status) {
        ctx.put(UNANSWERED_STATUS, status);
    }

    @Override
    public void handle(RoutingContext ctx) {
        long start = System.nanoTime();
        ctx.addEndHandler(ar -> {
            if (!log.isInfoEnabled()) {
                return;
            }
            if (ctx.response().headWritten()) {
                line(ctx, start, ctx.response().getStatusCode());
            } else {
                ctx.vertx().runOnContext(v -> line(ctx, start, ctx.<Integer>get(UNANSWERED_STATUS, CLIENT_CLOSED)));
            }
        });
        ctx.next();
    }

    private void line(RoutingContext ctx, long start, int status) {
        String route = routes.name(ctx.currentRoute(), ctx.request().method(), ctx.normalizedPath());
        long micros = (System.nanoTime() - start) / 1000;
        String fraction = Long.toString(1000 + micros % 1000).substring(1); // three digits, zero-padded
        log.info(
                "request_id={} method={} route={} status={} latency_ms={}.{}",
                RequestIds.of(ctx),
                ctx.request().method(),
                route,
                status,
                micros / 1000,
                fraction);
    }
}
