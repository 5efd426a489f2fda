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
    // One hook, so the order holds: in-flight requests finish first, then the log queue drains.
    Runtime.getRuntime().addShutdownHook(new Thread(() -> shutDown(running.get()), "tf-shutdown"));
    if (args.length > 0 && OpsCommands.COMMANDS.contains(args[0])) {
      Map<String, String> env = System.getenv();
      System.exit(OpsCommands.run(args, env, ConfigLoader.configFile(env), System.out, System.err));
    }
    boolean migrateOnly = args.length > 0 && "migrate".equals(args[0]);
    if (args.length > 0 && !migrateOnly) {
      log.error("unknown command '{}': run with no arguments to serve, 'migrate' to migrate and exit, or one of {}",
          args[0], OpsCommands.COMMANDS);
      System.exit(2);
    }
    AppConfig config;
    ServerKeys keys;
    try {
      config = ConfigLoader.load();
      // Keys first: a production address with a development key is refused before the database is touched.
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
    vertx.deployVerticle(new MainVerticle(config, keys, Optional.of(registry), Clock.systemUTC()))
        .onSuccess(id -> log.info("TradersFlow started in {} ms", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)))
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
  private static void shutDown(Vertx vertx) {
    if (vertx != null) {
      log.info("shutting down: finishing in-flight requests");
      try {
        vertx.close().toCompletionStage().toCompletableFuture().get(15, TimeUnit.SECONDS);
      } catch (Exception e) {
        log.warn("shutdown did not finish cleanly: {}", e.toString());
      }
    }
    if (LoggerFactory.getILoggerFactory() instanceof LoggerContext logging) {
      logging.stop();
    }
  }

  /** How long start-up waits for Postgres to come up before giving up with one clear line. */
  static final Duration DB_PATIENCE = Duration.ofSeconds(60);

  public static void prepareDatabase(AppConfig config, boolean migrateOnly) {
    new DatabaseBootstrap(PgUrl.parse(config.dbAdminUrl()), PgUrl.parse(config.dbUrl()),
        DatabaseBootstrap.workerUrl(config.dbUrl(), config.dbWorkerUrl()))
        .prepare(config.migrate() || migrateOnly, MIGRATIONS, DB_PATIENCE);
  }

  public static VertxOptions vertxOptions(AppConfig config) {
    return new VertxOptions()
        .setMetricsOptions(new MicrometerMetricsOptions()
            .setEnabled(true)
            .setJvmMetricsEnabled(true)
            .addLabels(Label.HTTP_ROUTE, Label.HTTP_METHOD, Label.HTTP_CODE, Label.POOL_TYPE, Label.POOL_NAME))
        .setMaxEventLoopExecuteTime(Duration.ofMillis(200).toNanos())
        // epoll on Linux when its native library is on the class path; NIO elsewhere.
        .setPreferNativeTransport(true);
  }

  private static final double[] REDIS_BUCKETS = java.util.stream.LongStream.of(1, 2, 5, 10, 25, 50, 100, 250, 1000)
      .mapToDouble(ms -> (double) Duration.ofMillis(ms).toNanos()).toArray();

  /** Latency timers publish histogram buckets, so p50/p99 can be computed across instances. */
  public static PrometheusMeterRegistry prometheusRegistry() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    registry.config().meterFilter(new MeterFilter() {
      @Override
      public DistributionStatisticConfig configure(Meter.Id id, DistributionStatisticConfig config) {
        if (id.getType() == Meter.Type.TIMER && id.getName().startsWith("vertx.http.server")) {
          return DistributionStatisticConfig.builder().percentilesHistogram(true)
              .maximumExpectedValue((double) Duration.ofSeconds(10).toNanos()).build().merge(config);
        }
        if (id.getType() == Meter.Type.TIMER && id.getName().startsWith("vertx.redis.processing")) {
          // Redis answers in well under a millisecond when healthy: a few fixed buckets, enough
          // for a p99 alert (25 ms) without the 70 of a full histogram.
          return DistributionStatisticConfig.builder().serviceLevelObjectives(REDIS_BUCKETS).build().merge(config);
        }
        return config;
      }
    });
    return registry;
  }
}
