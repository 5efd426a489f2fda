package uk.co.tradersflow.platform.http;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One line per request: id, method, route template (never the raw path with ids or tokens in
 * its query), status and latency. Query strings are never logged: signed URLs carry secrets there.
 */
public final class RequestLog implements Handler<RoutingContext> {
  private static final Logger log = LoggerFactory.getLogger("tradersflow.request");

  @Override
  public void handle(RoutingContext ctx) {
    long start = System.nanoTime();
    ctx.addEndHandler(ar -> {
      if (!log.isInfoEnabled()) {
        return;
      }
      String route = ctx.currentRoute() != null && ctx.currentRoute().getPath() != null
          ? ctx.currentRoute().getPath() : ctx.normalizedPath().replaceAll("[0-9a-fA-F-]{32,36}", "{id}");
      long micros = (System.nanoTime() - start) / 1000;
      String fraction = Long.toString(1000 + micros % 1000).substring(1);  // three digits, zero-padded
      log.info("request_id={} method={} route={} status={} latency_ms={}.{}", RequestIds.of(ctx),
          ctx.request().method(), route, ctx.response().getStatusCode(), micros / 1000, fraction);
    });
    ctx.next();
  }
}
