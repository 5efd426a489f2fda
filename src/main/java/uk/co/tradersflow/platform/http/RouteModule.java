package uk.co.tradersflow.platform.http;

import io.vertx.ext.web.Router;

/**
 * A capability's HTTP surface. Each capability package has one; {@code MainVerticle} lists
 * them, and every HTTP verticle instance mounts them all on its own router.
 */
public interface RouteModule {
  void mount(Router router, Api api);
}
