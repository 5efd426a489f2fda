package uk.co.tradersflow.platform.module;

import io.vertx.core.Deployable;
import java.util.List;
import java.util.function.Supplier;
import uk.co.tradersflow.platform.http.RouteModule;
import uk.co.tradersflow.platform.metrics.Sampler;

/**
 * What one capability adds to the running server: the routes every HTTPS verticle mounts, the
 * background verticles deployed before the listeners open (in this order), and the gauges the
 * sampler refreshes. Each capability's {@code *Module.create} returns one, and
 * {@code MainVerticle} lists them.
 */
public record Module(List<RouteModule> routes, List<Deployment> verticles, List<Sampler> samplers) {
    public Module {
        routes = List.copyOf(routes);
        verticles = List.copyOf(verticles);
        samplers = List.copyOf(samplers);
    }

    /**
     * A background verticle and how many instances of it run. A supplier, since each instance is
     * a verticle object of its own.
     */
    public record Deployment(Supplier<? extends Deployable> verticle, int instances) {
        /** One instance, built already (while wiring, off the event loop). */
        public static Deployment single(Deployable verticle) {
            return new Deployment(() -> verticle, 1);
        }
    }

    /** A module of routes only. */
    public static Module routes(RouteModule... routes) {
        return new Module(List.of(routes), List.of(), List.of());
    }
}
