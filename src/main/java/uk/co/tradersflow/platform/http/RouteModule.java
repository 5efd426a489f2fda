package uk.co.tradersflow.platform.http;

import io.vertx.ext.web.Router;

/**
 * A capability's HTTP surface. Each capability package has one; {@code MainVerticle} lists
 * them, and every HTTP verticle instance mounts them all on its own router.
 *
 * <p>One instance is mounted from every event loop at once, so a module is immutable: what its
 * handlers need comes in through the constructor, and {@code mount} only adds routes to the
 * router it is given (it assigns no field).
 */
public interface RouteModule {
    void mount(Router router, Api api);
}
