package uk.co.tradersflow;

import ch.qos.logback.classic.LoggerContext;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.Label;
import io.vertx.micrometer.MetricsDomain;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.co.tradersflow.config.AppConfig;
import uk.co.tradersflow.config.ConfigException;
import uk.co.tradersflow.config.ConfigLoader;
import uk.co.tradersflow.ops.OpsCommands;
import uk.co.tradersflow.platform.crypto.ServerKeys;
import uk.co.tradersflow.platform.db.DatabaseBootstrap;
import uk.co.tradersflow.platform.db.PgUrl;
import uk.co.tradersflow.platform.http.ListenerPorts;

/**
 * {@code java -jar tradersflow.jar [migrate | <incident command>]}: reads the configuration, prepares the database
 * (create if allowed, migrate unless {@code TF_MIGRATE=false}), then starts Vert.x with
 * Micrometer metrics and deploys {@link MainVerticle}. {@code migrate} stops after migrating;
 * the incident commands ({@link OpsCommands}) do their one job and exit.
 */
public final class Main {
    private static final Logger log = LoggerFactory.getLogger(Main.class);
    public static final String MIGRATIONS = "classpath:db/migration";

    private Main() {}

    public static void main(String[] args) {
        long started = System.nanoTime();
        AtomicReference<Vertx> running = new AtomicReference<>();
        AtomicReference<MainVerticle> serving = new AtomicReference<>();
        // One hook, so the order holds: drain, in-flight requests finish, then the log queue drains.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> shutDown(running.get(), serving.get()), "tf-shutdown"));
        if (args.length > 0 && OpsCommands.COMMANDS.contains(args[0])) {
            Map<String, String> env = System.getenv();
            System.exit(OpsCommands.run(args, env, ConfigLoader.configFile(env), System.out, System.err));
        }
        boolean migrateOnly = args.length > 0 && "migrate".equals(args[0]);
        if (args.length > 0 && !migrateOnly) {
            log.error(
                    "unknown command '{}': run with no arguments to serve, 'migrate' to migrate and exit, or one of {}",
                    args[0],
                    OpsCommands.COMMANDS);
            System.exit(2);
        }
        AppConfig config;
        ServerKeys keys;
        try {
            config = ConfigLoader.load();
            if (!migrateOnly) {
                // First: a port in use is then one line naming it, with nothing generated or changed.
                ListenerPorts.requireBindable(config.http().bindAddress(), ListenerPorts.of(config));
            }
            // Keys before the database: a production address with a development key is refused untouched.
            keys = migrateOnly ? null : ServerKeys.resolve(config);
            prepareDatabase(config, migrateOnly);
            if (migrateOnly) {
                System.exit(0);
            }
        } catch (ConfigException e) {
            log.error("cannot start: {}", e.getMessage());
            System.exit(2);
            return;
        } catch (RuntimeException e) {
            log.error("cannot start: {}", e.getMessage(), e);
            System.exit(1);
            return;
        }

        PrometheusMeterRegistry registry = prometheusRegistry();
        Vertx vertx = Vertx.builder()
                .with(vertxOptions(config))
                .withMetrics(new MicrometerMetricsFactory(registry))
                .build();
        running.set(vertx);
        MainVerticle main = new MainVerticle(config, keys, Optional.of(registry), Clock.systemUTC());
        serving.set(main);
        vertx.deployVerticle(main)
                .onSuccess(id -> log.info(
                        "TradersFlow started in {} ms", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)))
                .onFailure(e -> {
                    log.error("cannot start: {}", e.getMessage());
                    vertx.close().onComplete(v -> System.exit(1));
                });
    }

    /**
     * Log lines are written by Logback's asynchronous appender (logback.xml), so the last ones
     * before an exit (a bad setting's one line included) are still queued: stopping Logback
     * drains the queue into stdout.
     */
    private static void shutDown(Vertx vertx, MainVerticle main) {
        if (vertx != null) {
            // A rolling deploy's stop: readiness answers 503 for the drain period while every request
            // is still served, so the load balancer takes this instance out before its listeners close;
            // then Vert.x closes, which stops accepting and lets requests in flight finish. Both waits
            // happen here, on the hook's thread: closing Vert.x from one of its own event loops leaves
            // the close's completion with no thread to run on.
            Duration drain = main == null ? Duration.ZERO : main.drainPeriod();
            try {
                if (main != null && !drain.isZero()) {
                    log.info(
                            "shutting down: readiness answers 503 for {} s while requests are still served",
                            drain.toSeconds());
                    main.drain().toCompletionStage().toCompletableFuture().get(drain.toSeconds() + 5, TimeUnit.SECONDS);
                }
                log.info("shutting down: no longer accepting connections, finishing in-flight requests");
                vertx.close()
                        .toCompletionStage()
                        .toCompletableFuture()
                        .get(SHUTDOWN_GRACE.toSeconds(), TimeUnit.SECONDS);
            } catch (Exception e) {
                log.warn("shutdown did not finish cleanly: {}", e.toString());
            }
            // The last line of a server that ran: a start refused before Vert.x stays its one line.
            log.info("stopped");
        }
        if (LoggerFactory.getILoggerFactory() instanceof LoggerContext logging) {
            logging.stop();
        }
    }

    /** In-flight requests get ten seconds after the drain (HttpsVerticle); the rest closes in the remainder. */
    static final Duration SHUTDOWN_GRACE = Duration.ofSeconds(15);

    /** How long start-up waits for Postgres to come up before giving up with one clear line. */
    static final Duration DB_PATIENCE = Duration.ofSeconds(60);

    public static void prepareDatabase(AppConfig config, boolean migrateOnly) {
        new DatabaseBootstrap(
                        PgUrl.parse(config.db().adminUrl()),
                        PgUrl.parse(config.db().url()),
                        DatabaseBootstrap.workerUrl(
                                config.db().url(), config.db().workerUrl()))
                .prepare(config.db().migrate() || migrateOnly, MIGRATIONS, DB_PATIENCE);
    }

    public static VertxOptions vertxOptions(AppConfig config) {
        return new VertxOptions()
                // Vert.x's own HTTP server metrics are off: tf_http_server_requests_seconds (HttpMetrics)
                // already times every request by route, method and status class, and
                // tf_http_server_connections counts connections. Timing each request twice, once
                // into a full percentile histogram per route and code, cost the list and /me 5-10 %
                // of the server's CPU a request (load-tests/README.md, "sixth sitting").
                .setMetricsOptions(new MicrometerMetricsOptions()
                        .setEnabled(true)
                        .setJvmMetricsEnabled(true)
                        .addDisabledMetricsCategory(MetricsDomain.HTTP_SERVER)
                        .addLabels(Label.HTTP_METHOD, Label.HTTP_CODE, Label.POOL_TYPE, Label.POOL_NAME))
                .setMaxEventLoopExecuteTime(Duration.ofMillis(200).toNanos())
                // epoll on Linux when its native library is on the class path; NIO elsewhere.
                .setPreferNativeTransport(true);
    }

    private static final double[] REDIS_BUCKETS = java.util.stream.LongStream.of(1, 2, 5, 10, 25, 50, 100, 250, 1000)
            .mapToDouble(ms -> (double) Duration.ofMillis(ms).toNanos())
            .toArray();

    /** The Redis command timer publishes a few fixed buckets, so its p99 can be computed across instances. */
    public static PrometheusMeterRegistry prometheusRegistry() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        registry.config().meterFilter(new MeterFilter() {
            @Override
            public DistributionStatisticConfig configure(Meter.Id id, DistributionStatisticConfig config) {
                if (id.getType() == Meter.Type.TIMER && id.getName().startsWith("vertx.redis.processing")) {
                    // Redis answers in well under a millisecond when healthy: a few fixed buckets, enough
                    // for a p99 alert (25 ms) without the 70 of a full histogram.
                    return DistributionStatisticConfig.builder()
                            .serviceLevelObjectives(REDIS_BUCKETS)
                            .build()
                            .merge(config);
                }
                return config;
            }
        });
        return registry;
    }
}
