package uk.co.tradersflow.platform.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.ext.web.Router;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import uk.co.tradersflow.platform.http.Api;
import uk.co.tradersflow.platform.http.RouteModule;
import uk.co.tradersflow.platform.http.RouteTable;

/**
 * {@code tf_http_server_requests_seconds{method, route, status}}: every HTTPS request's latency,
 * from its first handler to the end of its response, as a histogram with fixed buckets (the
 * alerting budgets, 250 ms and 1 s, among them). Labels stay bounded: {@code route} is the
 * route template in the request log's syntax ({@link RouteTable}: {@code /api/v1/invoices/{id}},
 * {@code unmatched} for a path no route declares, so no URL a client makes up adds a series),
 * {@code status} the class ({@code 2xx} … {@code 5xx}),
 * {@code method} one of the standard methods or {@code OTHER}. Mounted as a route module, first
 * in the chain, so it times what the other handlers (and the problem responder) do.
 */
public final class HttpMetrics implements RouteModule {
    static final String NAME = "tf.http.server.requests";
    private static final Set<String> METHODS = Set.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS");
    private static final Duration[] BUCKETS = {
        Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50),
                Duration.ofMillis(100),
        Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofMillis(2500),
                Duration.ofSeconds(5),
        Duration.ofSeconds(10)
    };

    private final MeterRegistry registry;
    private final java.util.concurrent.ConcurrentMap<Series, Timer> timers =
            new java.util.concurrent.ConcurrentHashMap<>();

    public HttpMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    @Override
    public void mount(Router router, Api api) {
        // The templates are read at the first request, when every module has mounted its routes.
        RouteTable[] templates = new RouteTable[1];
        router.route().order(-1_000).handler(ctx -> {
            long start = System.nanoTime();
            ctx.addEndHandler(ar -> {
                if (templates[0] == null) {
                    templates[0] = RouteTable.of(router.getRoutes());
                }
                String method = ctx.request().method().name();
                timer(
                                METHODS.contains(method) ? method : "OTHER",
                                templates[0].name(
                                        ctx.currentRoute(), ctx.request().method(), ctx.normalizedPath()),
                                statusClass(ctx.response().getStatusCode()))
                        .record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
            });
            ctx.next();
        });
    }

    /**
     * The timer of one (method, route, status class): built and registered once, then read from
     * here, so a request costs a map lookup rather than a builder, sorted tags and a registry
     * lookup. Bounded like the labels: standard methods × route templates × status classes.
     */
    private Timer timer(String method, String route, String status) {
        return timers.computeIfAbsent(new Series(method, route, status), s -> register(method, route, status));
    }

    private record Series(String method, String route, String status) {}

    private Timer register(String method, String route, String status) {
        return Timer.builder(NAME)
                .description("HTTPS request latency by route template and status class")
                .tag("method", method)
                .tag("route", route)
                .tag("status", status)
                .serviceLevelObjectives(BUCKETS)
                .register(registry);
    }

    static String statusClass(int status) {
        return status >= 100 && status < 600 ? status / 100 + "xx" : "other";
    }
}
