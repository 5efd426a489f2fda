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
 */
public final class RequestLog implements Handler<RoutingContext> {
  private static final Logger log = LoggerFactory.getLogger("tradersflow.request");

  private final RouteTable routes;

  public RequestLog(RouteTable routes) {
    this.routes = routes;
  }

  @Override
  public void handle(RoutingContext ctx) {
    long start = System.nanoTime();
    ctx.addEndHandler(ar -> {
      if (!log.isInfoEnabled()) {
        return;
      }
      String route = routes.name(ctx.currentRoute(), ctx.request().method(), ctx.normalizedPath());
      long micros = (System.nanoTime() - start) / 1000;
      String fraction = Long.toString(1000 + micros % 1000).substring(1);  // three digits, zero-padded
      log.info("request_id={} method={} route={} status={} latency_ms={}.{}", RequestIds.of(ctx),
          ctx.request().method(), route, ctx.response().getStatusCode(), micros / 1000, fraction);
    });
    ctx.next();
  }
}
