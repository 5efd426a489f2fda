package uk.co.tradersflow;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.redis.client.Redis;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.SqlClient;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.co.tradersflow.admin.AdminModule;
import uk.co.tradersflow.admin.actions.AdminActionsModule;
import uk.co.tradersflow.admin.actions.AdminActionsService;
import uk.co.tradersflow.admin.report.ReportModule;
import uk.co.tradersflow.admin.signin.SignInLinkModule;
import uk.co.tradersflow.audit.AuditModule;
import uk.co.tradersflow.auth.AccessTokens;
import uk.co.tradersflow.auth.AuthModule;
import uk.co.tradersflow.auth.AuthServices;
import uk.co.tradersflow.auth.SessionRevocations;
import uk.co.tradersflow.auth.oauth.OAuthModule;
import uk.co.tradersflow.billing.BillingModule;
import uk.co.tradersflow.billing.StripeEventDue;
import uk.co.tradersflow.config.AppConfig;
import uk.co.tradersflow.console.ConsoleModule;
import uk.co.tradersflow.data.customers.CustomerModule;
import uk.co.tradersflow.data.invoices.InvoiceModule;
import uk.co.tradersflow.data.jobs.JobModule;
import uk.co.tradersflow.docs.ApiDocsRoutes;
import uk.co.tradersflow.email.EmailModule;
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
import uk.co.tradersflow.platform.http.ClientConnections;
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
import uk.co.tradersflow.platform.module.Module;
import uk.co.tradersflow.platform.module.Shared;
import uk.co.tradersflow.platform.redis.RedisClients;
import uk.co.tradersflow.platform.redis.RedisKeys;
import uk.co.tradersflow.ratelimit.ApiRateLimit;
import uk.co.tradersflow.ratelimit.RateLimiter;
import uk.co.tradersflow.retention.RetentionModule;
import uk.co.tradersflow.storage.StorageModule;

/**
 * Creates the shared clients once (Postgres pools, Redis, meters: {@link Shared}), lists the
 * capabilities' modules (each {@code *Module.create} returns its routes, background verticles
 * and gauges; adding a capability is one line in {@link #wire}), and deploys the verticles in
 * one chain: background verticles first, then the HTTPS verticle once per event loop, then the
 * plain-HTTP redirector. Any failure fails start-up as a whole.
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
        int httpInstances = config.http().instances() > 0
                ? config.http().instances()
                : Runtime.getRuntime().availableProcessors();
        // Building clients loads keys and many classes: seconds of work on a cold JVM, kept off the event loop.
        return vertx.executeBlocking(() -> wiring = wire(httpInstances), false)
                .compose(wiring -> workerLoginChecked()
                        .compose(v -> revocations.start())
                        .compose(v -> deployInOrder(wiring.verticles()))
                        .compose(v -> vertx.deployVerticle(new SamplerVerticle(wiring.samplers(), SAMPLE_INTERVAL)))
                        .compose(id -> registry.isEmpty()
                                ? Future.succeededFuture()
                                : vertx.deployVerticle(
                                        () -> new EventLoopDelayVerticle(registry.get()),
                                        new DeploymentOptions().setInstances(httpInstances)))
                        .compose(id -> vertx.deployVerticle(
                                        () -> new HttpsVerticle(
                                                config.http().httpsPort(),
                                                keys.tlsCertPem(),
                                                keys.tlsKeyPem(),
                                                wiring.api(),
                                                wiring.routes(),
                                                config.http()),
                                        new DeploymentOptions().setInstances(httpInstances))
                                .recover(ListenerPorts.nameBindFailure(
                                        "TF_HTTPS_PORT",
                                        config.http().httpsPort(),
                                        config.http().bindAddress())))
                        .compose(id -> vertx.deployVerticle(new PlainHttpVerticle(
                                        config.http().bindAddress(),
                                        config.http().httpPort(),
                                        config.links().publicUrl(),
                                        wiring.health()::mountProbes,
                                        config.http().limits()))
                                .recover(ListenerPorts.nameBindFailure(
                                        "TF_HTTP_PORT",
                                        config.http().httpPort(),
                                        config.http().bindAddress()))))
                .onSuccess(id -> log.info(
                        "listening: https on {}, http (redirect and health) on {}, {} HTTP instances, TLS by {}, {} transport",
                        config.http().httpsPort(),
                        config.http().httpPort(),
                        httpInstances,
                        io.vertx.core.net.OpenSSLEngineOptions.isAvailable() ? "BoringSSL" : "the JDK",
                        vertx.isNativeTransportEnabled() ? "epoll" : "NIO"));
    }

    /** The modules' background verticles, one after another: any failure fails start-up. */
    private Future<Void> deployInOrder(List<Module.Deployment> verticles) {
        Future<Void> chain = Future.succeededFuture();
        for (Module.Deployment d : verticles) {
            chain = chain.compose(
                    v -> vertx.deployVerticle(d.verticle(), new DeploymentOptions().setInstances(d.instances()))
                            .mapEmpty());
        }
        return chain;
    }

    private volatile Wiring wiring;

    private record Wiring(
            Api api,
            HealthRoutes health,
            List<RouteModule> routes,
            List<Module.Deployment> verticles,
            List<Sampler> samplers) {}

    /** How often the gauges read from the database and Redis (outbox, webhook backlog, readiness) are refreshed. */
    static final Duration SAMPLE_INTERVAL = Duration.ofSeconds(10);

    /** Statements of list pages in flight on one connection of the reads client (see sharedClients). */
    static final int READS_IN_FLIGHT = 12;

    private Wiring wire(int httpInstances) {
        Shared shared = sharedClients();
        RateLimiter rateLimiter = new RateLimiter(redis, shared.redisKeys());

        // The capabilities, each from the shared clients and the published services it uses.
        AuditModule audit = AuditModule.create(shared);
        EmailModule email = EmailModule.create(shared, audit.log());
        InvoiceModule invoices = InvoiceModule.create(shared, audit.log());
        AuthModule auth = AuthModule.create(shared, audit.log(), email.outbox(), rateLimiter);
        BillingModule billing = BillingModule.create(shared, audit.log(), email.outbox(), invoices.invoices());
        StorageModule storage = StorageModule.create(shared, audit.log());
        SignInLinkModule signInLinks =
                SignInLinkModule.create(shared, audit.log(), auth.services().sessions(), rateLimiter);
        ReportModule reports = ReportModule.create(shared, audit.log());
        AdminActionsService adminActions = AdminActionsModule.service(
                shared, audit.log(), billing.stripe(), signInLinks.links(), reports.exports());
        HealthRoutes health = new HealthRoutes(
                vertx,
                db,
                redis,
                registry,
                config.ops().metricsToken(),
                config.links().publicUrl().toString(),
                Map.of("storage", storage.readiness()));
        List<Module> modules = new java.util.ArrayList<>(List.of(
                Module.routes(new HttpMetrics(shared.meters())),
                new Module(List.of(health), List.of(), List.of(health)),
                Module.routes(new ApiDocsRoutes(vertx)),
                audit.module(),
                CustomerModule.create(shared, audit.log()),
                JobModule.create(shared, audit.log()),
                invoices.module(),
                email.module(),
                auth.module(),
                OAuthModule.create(shared, auth.services(), audit.log(), email.outbox()),
                billing.module(),
                storage.module(),
                signInLinks.module(),
                reports.module(),
                RetentionModule.create(shared, storage.blobs(), storage.workers(), billing.stripe(), audit.log()),
                AdminModule.create(shared),
                AdminActionsModule.module(shared, adminActions),
                ConsoleModule.create(
                        shared,
                        auth.services(),
                        adminActions,
                        audit.log(),
                        audit.chain(),
                        email.outbox(),
                        reports.exports())));
        // Email links lead here unless a separate web app (TF_APP_URL) answers them.
        if (config.links().servesEmailPages()) {
            modules.add(Module.routes(new EmailLinkPages()));
        }

        Api api = new Api(
                auth.guard(),
                new ApiRateLimit(
                        rateLimiter,
                        config.http().apiRatePerSecond(),
                        config.http().apiBurst()),
                auth.ownerGuard(),
                shared.clients());
        this.accessTokens = auth.accessTokens();
        this.revocations = auth.revocations();
        this.auth = auth.services();
        this.health = health;
        this.api = api;
        this.modules = modules.stream().flatMap(m -> m.routes().stream()).toList();
        return new Wiring(
                api,
                health,
                this.modules,
                modules.stream().flatMap(m -> m.verticles().stream()).toList(),
                modules.stream().flatMap(m -> m.samplers().stream()).toList());
    }

    /** The clients every module shares: the three Postgres pools, Redis, the meters. */
    private Shared sharedClients() {
        PgUrl appUrl = PgUrl.parse(config.db().url());
        PgConnectOptions appLogin = appUrl.connectOptions();
        // No event-loop size on the request clients: each connection is then opened on the event loop
        // that asked for it, and the pool hands a request a connection of its own loop first. With a
        // size of 2 they lived on two loops picked when the pool was built, not the HTTP verticles',
        // so most statements crossed threads twice (out and back): /me cost 0.089 ms of server CPU
        // against 0.062 ms without, and ran 12,000 against 16,000 req/s (load-tests/README.md).
        pool = PgBuilder.pool()
                .with(poolOptions("tf-app", config.db().poolSize()))
                .connectingTo(appLogin)
                .using(vertx)
                .build();
        // The list pages are single statements (Db.read). A pipelining client of their own keeps many
        // requests' statements in flight on each of a few connections, so PostgreSQL reads a batch
        // per wakeup: at 3,000 pages a second over 16 connections it spent twice the CPU per page.
        // At most READS_IN_FLIGHT on one connection: with the driver's 256, each event loop's pages
        // all queued behind one backend, and waited for it whenever it lost its core. With 12, an
        // event loop spreads its pages over two backends (list 12,200-13,100 against 9,400-10,300
        // req/s at 64 connections). More in flight or more backends gave a little more throughput
        // and a longer tail (16 on 4: p99 43-61 ms; 8 on 8: 54-84 ms; 12 on 4: 23-31 ms).
        reads = PgBuilder.client()
                .with(poolOptions("tf-reads", Math.max(2, config.db().poolSize() / 4)))
                // Options of its own, not a copy of appLogin: PgConnectOptions' copy constructor drops
                // useLayer7Proxy, and behind PgBouncer every read then failed ("unnamed prepared
                // statement does not exist"; PgBouncerTransactionModeTest).
                .connectingTo(appUrl.connectOptions().setPipeliningLimit(READS_IN_FLIGHT))
                .using(vertx)
                .build();
        // The cross-account jobs log in as tf_worker on connections of their own (see Db.asWorker).
        // Webhook deliveries are stored through it (one batch in flight per event loop) and their handling
        // (2 verticles x 16 Stripe-lane + 8 database-only events in hand, at most 6 of them waiting on Stripe
        // holding no connection) uses it for short transactions, beside email dispatch, retention and the
        // sweepers: at least 10 connections, which a burst of handling queues for rather than fails.
        PgConnectOptions workerLogin = DatabaseBootstrap.workerUrl(
                        config.db().url(), config.db().workerUrl())
                .connectOptions();
        workerPool = PgBuilder.pool()
                .with(poolOptions("tf-worker", Math.max(10, config.db().poolSize() / 2)))
                .connectingTo(workerLogin)
                .using(vertx)
                .build();
        redis = RedisClients.create(vertx, config.redis());

        // No pool-side wait timeouts (0 above): Db times the wait itself, see Db.borrow.
        db = new Db(vertx, pool, reads, workerPool, workerLogin, Db.BORROW_TIMEOUT, Db.UNIT_TIMEOUT);
        // Without Prometheus (embedding) the meters still count, into a registry nobody reads.
        MeterRegistry meters = registry.<MeterRegistry>map(r -> r).orElseGet(SimpleMeterRegistry::new);
        SecurityEvents.bindTo(meters);
        BuildInfo.bindTo(meters);
        CertificateExpiry.bindTo(meters, keys.tlsCertPem(), clock);
        ClientConnections.bindTo(meters, vertx, config.http().limits().maxConnectionsPerIp());
        return new Shared(
                vertx,
                config,
                keys,
                db,
                redis,
                new RedisKeys(
                        config.redis().keyPrefix(), config.redis().mode() == AppConfig.RedisSettings.RedisMode.CLUSTER),
                new ClientInfo(config.http().trustedProxies()),
                meters,
                registry,
                clock);
    }

    /**
     * A worker login that Postgres refuses is a setting to fix, so start-up stops naming it. An
     * unreachable Postgres is not: the server starts as it does without one, and readiness says db.
     */
    private Future<Void> workerLoginChecked() {
        return db.workerLogsIn().recover(e -> {
            if (e instanceof io.vertx.sqlclient.DatabaseException refused
                    && refused.getSqlState() != null
                    && refused.getSqlState().startsWith("28")) {
                return Future.failedFuture("the background jobs cannot log in as " + DatabaseBootstrap.WORKER_ROLE
                        + " (TF_DB_WORKER_URL, or TF_DB_URL's host and password): " + e.getMessage());
            }
            log.warn(
                    "the background jobs cannot reach PostgreSQL yet as {}: {}",
                    DatabaseBootstrap.WORKER_ROLE,
                    e.getMessage());
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
        return vertx.timer(period.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
                .mapEmpty();
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
        wiring.routes().forEach(m -> m.mount(router, wiring.api()));
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

    /**
     * A pool of this process's own (not shared across deployments), without a wait timeout of its
     * own: {@code Db}'s borrow timeout is what answers 503 when no connection comes (see Db#borrow).
     */
    private static PoolOptions poolOptions(String name, int maxSize) {
        return new PoolOptions()
                .setMaxSize(maxSize)
                .setName(name)
                .setShared(false)
                .setConnectionTimeout(0)
                .setMaxWaitQueueSize(4096);
    }
}
