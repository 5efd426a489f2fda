package uk.co.tradersflow;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.SqlClient;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.co.tradersflow.auth.OwnerGuard;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.audit.AuditSealerVerticle;
import uk.co.tradersflow.auth.AccessTokens;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import uk.co.tradersflow.auth.AuthServices;
import uk.co.tradersflow.billing.BillingRoutes;
import uk.co.tradersflow.billing.BillingService;
import uk.co.tradersflow.billing.InvoicePaymentRoutes;
import uk.co.tradersflow.billing.InvoicePaymentService;
import uk.co.tradersflow.billing.PaymentLinkRetirementVerticle;
import uk.co.tradersflow.billing.StripeEventDue;
import uk.co.tradersflow.billing.StripeEventHandler;
import uk.co.tradersflow.billing.StripeEventStore;
import uk.co.tradersflow.billing.StripeGateway;
import uk.co.tradersflow.billing.StripeWebhookRoutes;
import uk.co.tradersflow.billing.StripeWebhookService;
import uk.co.tradersflow.billing.StripeWebhookMetrics;
import uk.co.tradersflow.billing.StripeWebhookVerticle;
import uk.co.tradersflow.billing.WebhookAdminRoutes;
import uk.co.tradersflow.billing.WebhookAdminService;
import uk.co.tradersflow.platform.bus.Addresses;
import uk.co.tradersflow.auth.AuthGuard;
import uk.co.tradersflow.auth.PasswordHasher;
import uk.co.tradersflow.auth.PasswordPolicy;
import uk.co.tradersflow.auth.SessionRevocations;
import uk.co.tradersflow.auth.SessionStateCache;
import uk.co.tradersflow.config.AppConfig;
import uk.co.tradersflow.data.customers.CustomerRoutes;
import uk.co.tradersflow.data.customers.CustomerService;
import uk.co.tradersflow.data.invoices.InvoiceRoutes;
import uk.co.tradersflow.data.invoices.InvoiceService;
import uk.co.tradersflow.data.jobs.JobRoutes;
import uk.co.tradersflow.data.jobs.JobService;
import uk.co.tradersflow.email.EmailAdminRoutes;
import uk.co.tradersflow.email.EmailAdminService;
import uk.co.tradersflow.email.EmailDispatchVerticle;
import uk.co.tradersflow.email.EmailHealth;
import uk.co.tradersflow.email.EmailMetrics;
import uk.co.tradersflow.email.EmailOutbox;
import uk.co.tradersflow.email.EmailRenderer;
import uk.co.tradersflow.email.EmailWebhookRoutes;
import uk.co.tradersflow.email.EmailWebhookService;
import uk.co.tradersflow.docs.ApiDocsRoutes;
import uk.co.tradersflow.health.HealthRoutes;
import uk.co.tradersflow.pages.EmailLinkPages;
import uk.co.tradersflow.platform.bus.LocalRecordCodec;
import uk.co.tradersflow.platform.bus.SessionRevoked;
import uk.co.tradersflow.platform.bus.Signal;
import uk.co.tradersflow.platform.crypto.ServerKeys;
import uk.co.tradersflow.platform.db.DatabaseBootstrap;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.db.PgUrl;
import uk.co.tradersflow.platform.http.Api;
import uk.co.tradersflow.platform.http.ClientInfo;
import uk.co.tradersflow.platform.http.HttpsVerticle;
import uk.co.tradersflow.platform.http.ListenerPorts;
import uk.co.tradersflow.platform.http.PlainHttpVerticle;
import uk.co.tradersflow.platform.http.RouteModule;
import uk.co.tradersflow.platform.metrics.BuildInfo;
import uk.co.tradersflow.platform.metrics.CertificateExpiry;
import uk.co.tradersflow.platform.metrics.EventLoopDelayVerticle;
import uk.co.tradersflow.platform.metrics.HttpMetrics;
import uk.co.tradersflow.platform.metrics.Sampler;
import uk.co.tradersflow.platform.metrics.SamplerVerticle;
import uk.co.tradersflow.platform.metrics.SecurityEvents;
import uk.co.tradersflow.platform.redis.RedisKeys;
import uk.co.tradersflow.retention.AccountRetentionVerticle;
import uk.co.tradersflow.storage.BlobStore;
import uk.co.tradersflow.storage.DataKeyRotationVerticle;
import uk.co.tradersflow.storage.DocumentLinks;
import uk.co.tradersflow.storage.DocumentRoutes;
import uk.co.tradersflow.storage.DocumentService;
import uk.co.tradersflow.storage.EnvelopeKeys;
import uk.co.tradersflow.storage.BlobStores;
import uk.co.tradersflow.storage.StorageHealth;
import uk.co.tradersflow.storage.SignedUrls;
import uk.co.tradersflow.storage.StorageSweeperVerticle;
import uk.co.tradersflow.ratelimit.ApiRateLimit;
import uk.co.tradersflow.ratelimit.LoginThrottle;
import uk.co.tradersflow.ratelimit.RateLimiter;

/**
 * Creates the shared clients once (Postgres pool, Redis, caches), wires each capability, and
 * deploys the verticles in one chain: background verticles first, then the HTTPS verticle once
 * per event loop, then the plain-HTTP redirector. Any failure fails start-up as a whole.
 */
public final class MainVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(MainVerticle.class);

  private final AppConfig config;
  private final ServerKeys keys;
  private final Optional<PrometheusMeterRegistry> registry;
  private final Clock clock;

  private Pool pool;
  private SqlClient reads;
  private Pool workerPool;
  private Redis redis;
  private Db db;
  private AccessTokens accessTokens;
  private SessionRevocations revocations;
  private AuthServices auth;
  private volatile HealthRoutes health;
  private Api api;
  private List<RouteModule> modules = List.of();

  public MainVerticle(AppConfig config, ServerKeys keys, Optional<PrometheusMeterRegistry> registry, Clock clock) {
    this.config = config;
    this.keys = keys;
    this.registry = registry;
    this.clock = clock;
  }

  @Override
  public Future<?> start() {
    LocalRecordCodec.register(vertx, SessionRevoked.class);
    LocalRecordCodec.register(vertx, Signal.class);
    LocalRecordCodec.register(vertx, StripeEventDue.class);
    int httpInstances = config.httpInstances() > 0 ? config.httpInstances() : Runtime.getRuntime().availableProcessors();
    // Building clients loads keys and many classes: seconds of work on a cold JVM, kept off the event loop.
    return vertx.executeBlocking(() -> wiring = wire(httpInstances), false)
        .compose(wiring -> workerLoginChecked()
            .compose(v -> revocations.start())
            .compose(v -> vertx.deployVerticle(new AuditSealerVerticle(db, Duration.ofMillis(500), wiring.meters())))
            .compose(id -> vertx.deployVerticle(new SamplerVerticle(wiring.samplers(), SAMPLE_INTERVAL)))
            .compose(id -> registry.isEmpty() ? Future.succeededFuture() : vertx.deployVerticle(
                () -> new EventLoopDelayVerticle(registry.get()), new DeploymentOptions().setInstances(httpInstances)))
            .compose(id -> vertx.deployVerticle(wiring.emailDispatch()))
            .compose(id -> vertx.deployVerticle(wiring.stripeWebhooks(), new DeploymentOptions().setInstances(2)))
            .compose(id -> vertx.deployVerticle(wiring.retention()))
            .compose(id -> vertx.deployVerticle(wiring.paymentLinkRetirement()))
            .compose(id -> vertx.deployVerticle(wiring.storageSweeper()))
            .compose(id -> vertx.deployVerticle(wiring.keyRotation()))
            .compose(id -> vertx.deployVerticle(
                () -> new HttpsVerticle(config.httpsPort(), keys.tlsCertPem(), keys.tlsKeyPem(), wiring.api(), wiring.modules(), config.http()),
                new DeploymentOptions().setInstances(httpInstances))
                .recover(ListenerPorts.nameBindFailure("TF_HTTPS_PORT", config.httpsPort(), config.http().bindAddress())))
            .compose(id -> vertx.deployVerticle(new PlainHttpVerticle(config.http().bindAddress(), config.httpPort(), config.publicUrl(), wiring.health()::mountProbes,
                config.http().limits()))
                .recover(ListenerPorts.nameBindFailure("TF_HTTP_PORT", config.httpPort(), config.http().bindAddress()))))
        .onSuccess(id -> log.info("listening: https on {}, http (redirect and health) on {}, {} HTTP instances, TLS by {}, {} transport",
            config.httpsPort(), config.httpPort(), httpInstances,
            io.vertx.core.net.OpenSSLEngineOptions.isAvailable() ? "BoringSSL" : "the JDK",
            vertx.isNativeTransportEnabled() ? "epoll" : "NIO"));
  }

  private volatile Wiring wiring;

  private record Wiring(Api api, HealthRoutes health, List<RouteModule> modules, EmailDispatchVerticle emailDispatch,
                        java.util.function.Supplier<StripeWebhookVerticle> stripeWebhooks, AccountRetentionVerticle retention,
                        StorageSweeperVerticle storageSweeper, DataKeyRotationVerticle keyRotation,
                        PaymentLinkRetirementVerticle paymentLinkRetirement, MeterRegistry meters, List<Sampler> samplers) {}

  /** How often the gauges read from the database and Redis (outbox, webhook backlog, readiness) are refreshed. */
  static final Duration SAMPLE_INTERVAL = Duration.ofSeconds(10);

  private Wiring wire(int httpInstances) {
    PgConnectOptions appLogin = PgUrl.parse(config.dbUrl()).connectOptions();
    pool = PgBuilder.pool()
        .with(new PoolOptions().setMaxSize(config.dbPoolSize()).setName("tf-app").setShared(false)
            .setEventLoopSize(httpInstances).setConnectionTimeout(0).setMaxWaitQueueSize(4096))
        .connectingTo(appLogin)
        .using(vertx)
        .build();
    // The list pages are single statements (Db.read). A pipelining client of their own keeps many
    // requests' statements in flight on each of a few connections, so PostgreSQL reads a batch
    // per wakeup: at 3,000 pages a second over 16 connections it spent twice the CPU per page.
    reads = PgBuilder.client()
        .with(new PoolOptions().setMaxSize(Math.max(2, config.dbPoolSize() / 4)).setName("tf-reads").setShared(false)
            .setEventLoopSize(httpInstances).setConnectionTimeout(0).setMaxWaitQueueSize(4096))
        .connectingTo(appLogin)
        .using(vertx)
        .build();
    // The cross-account jobs log in as tf_worker on connections of their own (see Db.asWorker).
    // Webhook deliveries are stored through it and their handling (6 events in flight) uses it for
    // short transactions between Stripe calls, beside email dispatch, retention and the sweepers:
    // at least 10 connections.
    PgConnectOptions workerLogin = DatabaseBootstrap.workerUrl(config.dbUrl(), config.dbWorkerUrl()).connectOptions();
    workerPool = PgBuilder.pool()
        .with(new PoolOptions().setMaxSize(Math.max(10, config.dbPoolSize() / 2)).setName("tf-worker").setShared(false)
            .setConnectionTimeout(0).setMaxWaitQueueSize(4096))
        .connectingTo(workerLogin)
        .using(vertx)
        .build();
    // The pooled client holds a connection for each call in flight and does not pipeline calls
    // on it: with 16 connections, the invoice-list load's bursts of rate-limit calls waited 38 ms
    // on average for one; with 64, under 1 ms. Redis serves thousands of clients.
    redis = Redis.createClient(vertx, new RedisOptions().setConnectionString(config.redisUrl())
        .setMaxPoolSize(64).setMaxPoolWaiting(4096).setMaxWaitingHandlers(8192));
    RedisKeys redisKeys = new RedisKeys(config.redisKeyPrefix());

    // No pool-side wait timeouts (0 above): Db times the wait itself, see Db.borrow.
    db = new Db(vertx, pool, reads, workerPool, workerLogin, Db.BORROW_TIMEOUT);
    accessTokens = new AccessTokens(keys, config.accessTokenTtl(), clock);
    SessionStateCache sessionStates = new SessionStateCache(vertx, db);
    revocations = new SessionRevocations(vertx, redis, redisKeys, sessionStates);
    ClientInfo clients = new ClientInfo(config.trustedProxies());
    RateLimiter rateLimiter = new RateLimiter(redis, redisKeys);
    AuditLog audit = new AuditLog(vertx.eventBus());
    Api api = new Api(new AuthGuard(accessTokens, sessionStates),
        new ApiRateLimit(rateLimiter, config.apiRatePerSecond(), config.apiBurst()), new OwnerGuard(config, db, audit, clients), clients);
    // Argon2 is slow on purpose: a pool of its own, one thread per core, so a flood of sign-ins
    // queues here instead of starving the event loops or the shared worker pool.
    PasswordPolicy passwordPolicy = new PasswordPolicy();
    PasswordHasher hasher = new PasswordHasher(vertx.createSharedWorkerExecutor("tf-password-hashing",
        Runtime.getRuntime().availableProcessors(), 30, java.util.concurrent.TimeUnit.SECONDS));
    EmailOutbox outbox = new EmailOutbox(vertx.eventBus());

    // Without Prometheus (embedding) the meters still count, into a registry nobody reads.
    MeterRegistry meters = registry.<MeterRegistry>map(r -> r).orElseGet(SimpleMeterRegistry::new);
    SecurityEvents.bindTo(meters);
    BuildInfo.bindTo(meters);
    CertificateExpiry.bindTo(meters, keys.tlsCertPem(), clock);
    EmailRenderer emailRenderer = new EmailRenderer(config.appUrl().toString());
    EmailHealth emailHealth = new EmailHealth(db, config.emailAlertWindow(), config.emailAlertFailureRate(), registry);
    EmailDispatchVerticle emailDispatch = new EmailDispatchVerticle(config, db, emailRenderer, emailHealth, config.emailRetryBase(), clock);

    StripeGateway stripe = new StripeGateway(vertx, config);
    StripeEventStore stripeEvents = new StripeEventStore(db, vertx.eventBus());
    StripeEventHandler stripeHandler = new StripeEventHandler(db, stripe, stripeEvents, audit, outbox,
        // The billing page is the web app's: emails link there, not to the API's host.
        config.appLink("/billing"));
    // Deliveries are verified and stored on the HTTPS loop that received them (StripeWebhookService);
    // two handling instances keep up to 2 x MAX_HANDLING events in flight.
    java.util.function.Supplier<StripeWebhookVerticle> stripeWebhooks = () -> new StripeWebhookVerticle(
        stripeEvents, stripeHandler, meters);

    // Storage's blocking work (AES-GCM over every chunk, file I/O) gets its own pool, so large
    // uploads and downloads queue among themselves instead of starving other blocking work.
    WorkerExecutor storageWorkers = vertx.createSharedWorkerExecutor("tf-storage",
        2 * Runtime.getRuntime().availableProcessors(), 60, java.util.concurrent.TimeUnit.SECONDS);
    BlobStore blobs = BlobStores.from(config);
    EnvelopeKeys envelopeKeys = new EnvelopeKeys(keys.dataKey(), config.previousDataKeys());
    StorageHealth storageHealth = new StorageHealth(config.s3().isPresent() ? Optional.empty() : Optional.of(config.storageDir()),
        config.uploadMaxBytes(), storageWorkers, clock, meters);
    DocumentService documents = new DocumentService(db, blobs, storageWorkers, envelopeKeys, audit, config.uploadMaxBytes(),
        storageHealth, new DocumentLinks(new SignedUrls(keys.urlSigningKey(), clock), config.signedUrlTtl(), config.publicUrl(), clock));

    // One lockout count per user, whichever route checks their password.
    LoginThrottle loginThrottle = new LoginThrottle(redis, redisKeys, config.loginMaxFailures(), config.loginLockout());
    AuthServices auth = new AuthServices(config, db, hasher, passwordPolicy, accessTokens, loginThrottle, rateLimiter,
        keys.urlSigningKey(), keys.dataKey(), outbox, audit, revocations, clock,
        () -> vertx.eventBus().publish(Addresses.ACCOUNT_CLOSED, Signal.INSTANCE));
    HealthRoutes health = new HealthRoutes(vertx, db, redis, registry, config.metricsToken(), config.publicUrl().toString(),
        Map.of("storage", storageHealth::check));
    InvoiceService invoices = new InvoiceService(db, audit);
    List<RouteModule> modules = new java.util.ArrayList<>(List.of(
        new HttpMetrics(meters),
        health,
        new ApiDocsRoutes(vertx),
        new CustomerRoutes(new CustomerService(db, audit), clients),
        new JobRoutes(new JobService(db, audit), clients),
        new InvoiceRoutes(invoices, clients),
        new EmailWebhookRoutes(new EmailWebhookService(config.emailWebhookSecret(), db, clock))));
    modules.addAll(auth.routes(clients));
    modules.addAll(List.of(
        new EmailAdminRoutes(new EmailAdminService(db, emailHealth, outbox, audit), clients),
        new BillingRoutes(new BillingService(db, stripe, audit, config), clients),
        new InvoicePaymentRoutes(new InvoicePaymentService(db, stripe, audit, outbox, invoices), clients),
        new StripeWebhookRoutes(new StripeWebhookService(config.stripeWebhookSecrets(), clock, stripeEvents, meters)),
        new WebhookAdminRoutes(new WebhookAdminService(db, stripeEvents, audit), clients),
        new DocumentRoutes(documents, clients)));
    // Email links lead here unless a separate web app (TF_APP_URL) answers them.
    if (config.servesEmailPages()) {
      modules.add(new EmailLinkPages());
    }
    this.health = health;
    this.api = api;
    this.auth = auth;
    this.modules = List.copyOf(modules);
    return new Wiring(api, health, this.modules, emailDispatch, stripeWebhooks,
        new AccountRetentionVerticle(db, blobs, storageWorkers, stripe, audit, Duration.ofMinutes(5)),
        new StorageSweeperVerticle(db, blobs, storageWorkers, Duration.ofMinutes(1)),
        new DataKeyRotationVerticle(db, envelopeKeys, storageWorkers, Duration.ofMinutes(10)),
        new PaymentLinkRetirementVerticle(db, stripe, Duration.ofSeconds(30)),
        meters, List.of(health, new EmailMetrics(db, meters), new StripeWebhookMetrics(db, meters)));
  }

  /**
   * A worker login that Postgres refuses is a setting to fix, so start-up stops naming it. An
   * unreachable Postgres is not: the server starts as it does without one, and readiness says db.
   */
  private Future<Void> workerLoginChecked() {
    return db.workerLogsIn().recover(e -> {
      if (e instanceof io.vertx.sqlclient.DatabaseException refused && refused.getSqlState() != null
          && refused.getSqlState().startsWith("28")) {
        return Future.failedFuture("the background jobs cannot log in as " + DatabaseBootstrap.WORKER_ROLE
            + " (TF_DB_WORKER_URL, or TF_DB_URL's host and password): " + e.getMessage());
      }
      log.warn("the background jobs cannot reach PostgreSQL yet as {}: {}", DatabaseBootstrap.WORKER_ROLE, e.getMessage());
      return Future.succeededFuture();
    });
  }

  @Override
  public Future<?> stop() {
    // Child verticles (the listeners) are undeployed first by Vert.x; then the shared clients go.
    return Future.join(
        revocations == null ? Future.succeededFuture() : revocations.stop(),
        pool == null ? Future.succeededFuture() : pool.close(),
        reads == null ? Future.succeededFuture() : reads.close(),
        workerPool == null ? Future.succeededFuture() : workerPool.close(),
        redis == null ? Future.succeededFuture() : redis.close());
  }

  /** How long {@link #drain} keeps serving with readiness down ({@code TF_SHUTDOWN_DRAIN_SECONDS}). */
  public Duration drainPeriod() {
    return health == null ? Duration.ZERO : config.http().shutdownDrain();
  }

  /**
   * The first step of a stop: readiness answers 503 on both listeners while requests are still
   * served; completes when the drain period is over. Nothing to drain before start-up wired the routes.
   */
  public Future<Void> drain() {
    Duration period = drainPeriod();
    if (period.isZero()) {
      return Future.succeededFuture();
    }
    health.startDraining();
    return vertx.timer(period.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS).mapEmpty();
  }

  /** The shared API guards, and every capability's routes as each HTTPS verticle mounts them. */
  public Api api() {
    return api;
  }

  public List<RouteModule> routeModules() {
    return modules;
  }

  public Db db() {
    return db;
  }

  /** The routes every HTTPS listener mounts, on a router of their own: to hold them against the API document. */
  public io.vertx.ext.web.Router routes() {
    io.vertx.ext.web.Router router = io.vertx.ext.web.Router.router(vertx);
    wiring.modules().forEach(m -> m.mount(router, wiring.api()));
    return router;
  }

  public AccessTokens accessTokens() {
    return accessTokens;
  }

  public SessionRevocations revocations() {
    return revocations;
  }

  /** Auth's use cases, for callers that act for a user without HTTP (the admin area, jobs, tests). */
  public AuthServices auth() {
    return auth;
  }
}
