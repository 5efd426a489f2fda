package uk.co.tradersflow.health;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.http.Api;
import uk.co.tradersflow.platform.http.RouteModule;
import uk.co.tradersflow.platform.metrics.Sampler;

/**
 * Public operational routes: liveness, readiness (Postgres, Redis and the checks other
 * capabilities hand in, such as storage; each bounded by a timeout), Prometheus metrics (loopback or bearer token only) and RFC 9116 security.txt.
 */
public final class HealthRoutes implements RouteModule, Sampler {
    private static final Duration CHECK_TIMEOUT = Duration.ofSeconds(2);
    /**
     * Headers by which a peer says it relays someone else's request: the standard and de facto
     * ones, and the client-address headers of CDNs and tunnels (Cloudflare, Akamai, Fastly) that
     * a proxy on this host may send on their own.
     */
    private static final List<String> FORWARDING_HEADERS = List.of(
            "X-Forwarded-For",
            "Forwarded",
            "X-Real-IP",
            "X-Forwarded-Host",
            "X-Forwarded-Proto",
            "Via",
            "CF-Connecting-IP",
            "True-Client-IP",
            "Fastly-Client-IP",
            "X-Client-IP",
            "X-Cluster-Client-IP");

    private final Vertx vertx;
    private final Db db;
    private final Redis redis;
    private final Optional<PrometheusMeterRegistry> registry;
    private final Optional<String> metricsToken;
    private final String publicUrl;
    /** 1 when the last readiness check passed: {@code tf_ready}, sampled so the alert needs no probe of its own. */
    private final AtomicInteger ready = new AtomicInteger();
    /** Set once, at shutdown; read by every listener's event loop. */
    private volatile boolean draining;
    /**
     * How long a readiness answer is reused. /health/ready is public (balancers and orchestrators
     * call it without credentials) and each check logs in to PostgreSQL afresh as the worker and
     * borrows a request connection: run per call, sixty concurrent calls opened 64 database
     * sessions, and a flood forked backends up to max_connections. Shorter than the balancer's
     * check interval (1 s), so its view is never a whole check behind.
     */
    public static final Duration READINESS_REUSE = Duration.ofMillis(500);
    /** The readiness check running or last run, and when it started (System.nanoTime). */
    private final AtomicReference<Checked> lastCheck = new AtomicReference<>();

    private record Checked(long startedNanos, Future<JsonObject> result) {}

    private final Map<String, Supplier<Future<?>>> moreChecks;

    /** @param moreChecks readiness checks of other capabilities (storage), by the name readiness reports */
    public HealthRoutes(
            Vertx vertx,
            Db db,
            Redis redis,
            Optional<PrometheusMeterRegistry> registry,
            Optional<String> metricsToken,
            String publicUrl,
            Map<String, Supplier<Future<?>>> moreChecks) {
        this.moreChecks = Map.copyOf(moreChecks);
        this.vertx = vertx;
        this.db = db;
        this.redis = redis;
        this.registry = registry;
        this.metricsToken = metricsToken;
        this.publicUrl = publicUrl.replaceAll("/+$", "");
        registry.ifPresent(r -> Gauge.builder("tf.ready", ready, AtomicInteger::get)
                .description("1 while this instance's readiness checks (Postgres, both logins, Redis) pass")
                .register(r));
    }

    @Override
    public Future<?> sample() {
        return sharedReadiness().onSuccess(body -> ready.set("UP".equals(body.getString("status")) ? 1 : 0));
    }

    @Override
    public void mount(Router router, Api api) {
        mountProbes(router);
        router.get("/.well-known/security.txt").handler(ctx -> ctx.response()
                .putHeader("Content-Type", "text/plain; charset=utf-8")
                .putHeader("Cache-Control", "public, max-age=86400")
                .end(securityTxt(java.time.Instant.now())));
        router.get("/metrics").handler(this::metrics);
    }

    /**
     * RFC 9116 requires Expires no more than a year ahead; it is computed per request (180 days
     * from today, at midnight UTC) so that a long-running server never serves an expired file.
     */
    String securityTxt(java.time.Instant now) {
        return """
        Contact: mailto:security@tradersflow.co.uk
        Expires: %s
        Policy: https://tradersflow.co.uk/security
        Preferred-Languages: en
        Canonical: %s/.well-known/security.txt
        """
                .formatted(now.truncatedTo(java.time.temporal.ChronoUnit.DAYS).plus(Duration.ofDays(180)), publicUrl);
    }

    /** Only the probes: what the plain-HTTP listener serves besides its redirect. */
    public void mountProbes(Router router) {
        router.get("/health/live").handler(ctx -> Api.json(ctx, 200, new JsonObject().put("status", "UP")));
        router.get("/health/ready").handler(this::ready);
    }

    /**
     * From now on readiness answers 503 (a check named {@code shutdown}), so load balancers stop
     * sending new requests here; everything else, liveness included, keeps being served.
     */
    public void startDraining() {
        draining = true;
    }

    private void ready(RoutingContext ctx) {
        if (draining) {
            Api.json(
                    ctx,
                    503,
                    new JsonObject()
                            .put("status", "DOWN")
                            .put(
                                    "checks",
                                    new JsonObject()
                                            .put(
                                                    "shutdown",
                                                    new JsonObject()
                                                            .put("status", "DOWN")
                                                            .put("error", "draining"))));
            return;
        }
        sharedReadiness().onSuccess(body -> Api.json(ctx, "UP".equals(body.getString("status")) ? 200 : 503, body));
    }

    /**
     * {@link #readiness}, at most one at a time: a call joins the check in flight, or takes the last
     * answer while it is younger than {@link #READINESS_REUSE}, and otherwise starts the next.
     */
    private Future<JsonObject> sharedReadiness() {
        long now = System.nanoTime();
        Checked last = lastCheck.get();
        if (last != null && (!last.result().isComplete() || now - last.startedNanos() < READINESS_REUSE.toNanos())) {
            return last.result();
        }
        Promise<JsonObject> answer = Promise.promise();
        if (!lastCheck.compareAndSet(last, new Checked(now, answer.future()))) {
            return lastCheck.get().result(); // another call started one just now
        }
        readiness().onComplete(answer);
        return answer.future();
    }

    /** {@code {status, checks}}: never fails, a check that fails or times out is DOWN. */
    private Future<JsonObject> readiness() {
        Map<String, Supplier<Future<?>>> checks = new LinkedHashMap<>();
        // Both logins: the requests' and the background jobs' (a worker that cannot log in leaves
        // email and webhook effects queued).
        // db.ping, not a statement on the pool: a probe of a frozen database discards its connection
        // when its time is up instead of keeping one of the requests' connections until it wakes.
        checks.put("db", () -> Future.all(db.ping(CHECK_TIMEOUT), db.workerLogsIn()));
        checks.put("redis", () -> redis.send(Request.cmd(Command.PING)));
        checks.putAll(moreChecks);
        JsonObject results = new JsonObject();
        var futures = checks.entrySet().stream()
                .map(e -> timed(e.getValue())
                        .map(ok -> results.put(e.getKey(), new JsonObject().put("status", "UP")))
                        .recover(err -> Future.succeededFuture(results.put(
                                e.getKey(),
                                new JsonObject().put("status", "DOWN").put("error", reason(err))))))
                .toList();
        return Future.join(futures).transform(ar -> {
            boolean up = results.stream().allMatch(e -> "UP".equals(((JsonObject) e.getValue()).getString("status")));
            return Future.succeededFuture(
                    new JsonObject().put("status", up ? "UP" : "DOWN").put("checks", results));
        });
    }

    /** What readiness says of a failed check: a timeout, the problem code a check failed with, or unreachable. */
    private static String reason(Throwable err) {
        if (err instanceof java.util.concurrent.TimeoutException) {
            return "timeout";
        }
        return err instanceof uk.co.tradersflow.error.AppError problem
                ? problem.code().code()
                : "unreachable";
    }

    private Future<?> timed(Supplier<Future<?>> check) {
        return check.get().timeout(CHECK_TIMEOUT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    private void metrics(RoutingContext ctx) {
        if (registry.isEmpty()) {
            ctx.fail(404);
            return;
        }
        if (!isLoopback(ctx) && !hasMetricsToken(ctx)) {
            ctx.fail(uk.co.tradersflow.error.AppError.of(
                    uk.co.tradersflow.error.ErrorCode.FORBIDDEN,
                    "Metrics are served to loopback clients or with the metrics token"));
            return;
        }
        vertx.executeBlocking(() -> registry.get().scrape(), false).onComplete(ar -> {
            if (ar.failed()) {
                ctx.fail(ar.cause());
                return;
            }
            ctx.response()
                    .putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                    .end(ar.result());
        });
    }

    private static boolean isLoopback(RoutingContext ctx) {
        // The direct peer, and only when nothing says it relays someone else: a proxy on this host
        // (which may send Forwarded or X-Real-IP, or nothing) must use the token.
        var peer = ctx.request().remoteAddress();
        if (peer == null
                || FORWARDING_HEADERS.stream().anyMatch(h -> ctx.request().getHeader(h) != null)) {
            return false;
        }
        String ip = peer.hostAddress();
        return ip.startsWith("127.") || ip.equals("::1") || ip.equals("0:0:0:0:0:0:0:1");
    }

    private boolean hasMetricsToken(RoutingContext ctx) {
        String header = ctx.request().getHeader("Authorization");
        return metricsToken.isPresent()
                && header != null
                && header.startsWith("Bearer ")
                && MessageDigest.isEqual(
                        header.substring(7).trim().getBytes(StandardCharsets.UTF_8),
                        metricsToken.get().getBytes(StandardCharsets.UTF_8));
    }
}
