package uk.co.tradersflow.support;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.micrometer.MicrometerMetricsFactory;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import uk.co.tradersflow.Main;
import uk.co.tradersflow.MainVerticle;
import uk.co.tradersflow.config.AppConfig;
import uk.co.tradersflow.config.ConfigLoader;
import uk.co.tradersflow.platform.crypto.ServerKeys;

/**
 * The real server, started in-process against this run's database and Redis prefix, on free
 * ports, with a blocked-thread limit low enough that blocking an event loop shows. Settings can
 * be overridden per test class as {@code TF_*} variables.
 */
public final class TestServer implements AutoCloseable {
    private static boolean migrated;

    public final TestEnvironment env = TestEnvironment.get();
    public final AppConfig config;
    public final Vertx vertx;
    public final MainVerticle main;
    public final WebClient client;
    public final WebClient plainClient;
    private final Path devDir;
    private int blockedBefore;
    private int documentViolationsBefore;
    /**
     * A quarter of Vert.x's 2 s default: a blocking client call, a slow file read or a stray hash
     * on an event loop shows up. Lower (200 ms) failed at random when the 2-core machine was
     * oversubscribed: the OS descheduled an event loop mid-statement, which is not blocking.
     */
    static final long BLOCKED_LIMIT_MS = 500;

    /** A Redis the servers started from now on use instead of the run's (see {@link OnRedisCluster}); null: the run's. */
    private static volatile Map<String, String> redisInUse;

    static void useRedis(Map<String, String> settings) {
        redisInUse = settings;
    }

    public static TestServer start() {
        return start(Map.of());
    }

    public static TestServer start(Map<String, String> overrides) {
        return new TestServer(overrides, Clock.systemUTC());
    }

    /** With a clock the test moves (see {@link TestClock}), for schedules measured in hours. */
    public static TestServer start(Map<String, String> overrides, Clock clock) {
        return new TestServer(overrides, clock);
    }

    private TestServer(Map<String, String> overrides, Clock clock) {
        BlockedThreadWatch.install();
        try {
            devDir = Files.createTempDirectory("tf-test-dev");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        Map<String, String> settings = new HashMap<>();
        int[] ports = freePorts(2);
        settings.put("TF_HTTP_PORT", Integer.toString(ports[0]));
        settings.put("TF_HTTPS_PORT", Integer.toString(ports[1]));
        settings.put("TF_DB_URL", env.appUrl());
        settings.put("TF_DB_ADMIN_URL", env.adminUrl());
        settings.put("TF_REDIS_URL", env.redisUrl);
        settings.put("TF_REDIS_KEY_PREFIX", env.redisPrefix);
        Map<String, String> redis = redisInUse;
        if (redis != null) {
            settings.putAll(redis);
        }
        settings.put("TF_DEV_DATA_DIR", devDir.toString());
        settings.put("TF_STORAGE_DIR", devDir.resolve("files").toString());
        settings.put("TF_AUDIT_ANCHOR_DIR", devDir.resolve("audit-anchors").toString());
        settings.put("TF_HTTP_INSTANCES", "2");
        settings.put("TF_DB_POOL_SIZE", "8");
        // Every test class signs in from 127.0.0.1 against this run's one Redis prefix, so the
        // per-IP sign-in limit would add up across classes run within a minute of each other; the
        // tests of that limit set their own (low) value and client addresses.
        settings.put("TF_LOGIN_IP_LIMIT_PER_MINUTE", "1000");
        settings.put("TF_PUBLIC_URL", "https://localhost:" + settings.get("TF_HTTPS_PORT"));
        // Tests run with development defaults, under which mail would go to files: they send over SMTP
        // (a port where nothing listens unless the test starts GreenMail) unless they ask for files.
        settings.put("TF_DEV_MAIL", "off");
        settings.putAll(overrides);
        config = ConfigLoader.load(settings, Optional.empty());
        prepareDatabaseOnce(config);
        ServerKeys keys = ServerKeys.resolve(config);
        warmColdJvmClasses();
        // Metrics wired as Main does, so /metrics in tests shows what production shows.
        PrometheusMeterRegistry registry = Main.prometheusRegistry();
        vertx = Vertx.builder()
                .with(new VertxOptions()
                        .setMetricsOptions(Main.vertxOptions(config).getMetricsOptions())
                        .setMaxEventLoopExecuteTime(TimeUnit.MILLISECONDS.toNanos(BLOCKED_LIMIT_MS))
                        .setBlockedThreadCheckInterval(50)
                        .setWarningExceptionTime(TimeUnit.MILLISECONDS.toNanos(BLOCKED_LIMIT_MS)))
                .withMetrics(new MicrometerMetricsFactory(registry))
                .build();
        main = new MainVerticle(config, keys, Optional.of(registry), clock);
        try {
            await(vertx.deployVerticle(main));
        } catch (RuntimeException startFailed) {
            await(vertx.close()); // a test proving a refused start must not leave a Vert.x running
            throw startFailed;
        }
        client = WebClient.create(
                vertx, TrustAllTls.webClient(config.http().httpsPort()).setFollowRedirects(false));
        plainClient = WebClient.create(
                vertx,
                new WebClientOptions()
                        .setDefaultHost("localhost")
                        .setDefaultPort(config.http().httpPort())
                        .setFollowRedirects(false));
        documentViolationsBefore = OpenApiResponseCheck.violations().size();
        OpenApiResponseCheck.install(client, config.http().httpsPort());
        // A cold JVM loads classes (TLS, Netty, JFR) on the event loop during start and the first
        // request; that is not the blocking this guards against, so the watch starts after a warm-up.
        await(request(HttpMethod.GET, "/health/ready").send());
        blockedBefore = BlockedThreadWatch.mark();
    }

    /**
     * Classes whose one-time static initialisation takes 100-300 ms on a cold, CPU-starved JVM and
     * would otherwise first run on an event loop (Netty's JFR buffer event, IDN tables for DNS
     * names): initialised here, on the test thread, so the blocked-thread watch reports only real
     * blocking. Production pays this once at start-up, which is not what the watch guards against.
     */
    private static void warmColdJvmClasses() {
        java.net.IDN.toASCII("localhost");
        for (String name : new String[] {
            "io.netty.buffer.FreeBufferEvent",
            "io.netty.buffer.AllocateBufferEvent",
            "io.netty.buffer.AllocateChunkEvent",
            "io.netty.buffer.FreeChunkEvent",
            "io.netty.buffer.ReallocateBufferEvent",
            "io.vertx.core.spi.tls.DefaultJDKCipherSuite"
        }) {
            try {
                Class.forName(name, true, TestServer.class.getClassLoader());
            } catch (ClassNotFoundException | LinkageError e) {
                // not in this Netty/Vert.x version: nothing to warm
            }
        }
    }

    /**
     * Migrates the run's database, once. A server pointed at another PostgreSQL (a test's own, see
     * {@link OwnPostgres}) is that test's to prepare, and must not count as the run's migration.
     */
    private static synchronized void prepareDatabaseOnce(AppConfig config) {
        if (!migrated && config.db().adminUrl().equals(TestEnvironment.get().adminUrl())) {
            Main.prepareDatabase(config, false);
            migrated = true;
        }
    }

    /**
     * {@code n} distinct free ports, all held open until each is known: two calls of {@link
     * #freePort} can get the same port back (each closes its socket before the next asks), and a
     * server given it twice once shared one socket between its HTTP and HTTPS listeners.
     */
    public static int[] freePorts(int n) {
        List<ServerSocket> held = new ArrayList<>();
        try {
            int[] ports = new int[n];
            for (int i = 0; i < n; i++) {
                ServerSocket socket = new ServerSocket(0);
                held.add(socket);
                ports[i] = socket.getLocalPort();
            }
            return ports;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } finally {
            for (ServerSocket socket : held) {
                try {
                    socket.close();
                } catch (IOException ignored) {
                    // closing a listener nobody connected to: nothing to do
                }
            }
        }
    }

    public static int freePort() {
        return freePorts(1)[0];
    }

    public HttpRequest<Buffer> request(HttpMethod method, String path) {
        return client.request(method, path).timeout(Duration.ofSeconds(20).toMillis());
    }

    public HttpRequest<Buffer> request(HttpMethod method, String path, String accessToken) {
        return request(method, path).bearerTokenAuthentication(accessToken);
    }

    public HttpResponse<Buffer> send(HttpMethod method, String path, String accessToken) {
        return await(request(method, path, accessToken).send());
    }

    public HttpResponse<Buffer> send(HttpMethod method, String path, String accessToken, JsonObject body) {
        return await(request(method, path, accessToken).sendJsonObject(body));
    }

    /** Creates a customer through the API in the token's account; its id. Invoices and jobs need one. */
    public String createCustomer(String accessToken) {
        return create("/api/v1/customers", accessToken, new JsonObject().put("name", "Customer"));
    }

    /**
     * Settings for a second server with this one's keys (so its tokens verify there) whose
     * PostgreSQL is a closed port: everything that needs the database fails on it.
     */
    public Map<String, String> twinWithoutDatabase() {
        return Map.of(
                "TF_DB_URL",
                "postgresql://tf_app@127.0.0.1:" + freePort() + "/" + env.database,
                "TF_DEV_DATA_DIR",
                config.ops().devDataDir().toString(),
                "TF_MIGRATE",
                "false");
    }

    /** Signs up a business "Sparks Ltd" for {@code email}; answers the reply (201 when it worked). */
    public HttpResponse<Buffer> signUp(String email, String password) {
        return await(request(HttpMethod.POST, "/api/v1/auth/signup")
                .sendJsonObject(new JsonObject()
                        .put("email", email)
                        .put("password", password)
                        .put("businessName", "Sparks Ltd")));
    }

    /** POSTs {@code body} to the collection at {@code path}, expects 201 and answers the new id. */
    public String create(String path, String accessToken, JsonObject body) {
        HttpResponse<Buffer> created = send(HttpMethod.POST, path, accessToken, body);
        assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
        return created.bodyAsJsonObject().getString("id");
    }

    public static <T> T await(Future<T> future) {
        try {
            return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A worker cut off by the close can leave a transaction open on a socket nobody reads any more;
     * in production the process exit ends it, here the JVM lives on and its row locks would stall
     * the next test class (sharing this database) until the role's five-minute timeout. Only
     * transactions idle for over two seconds are ended, so another live server's are never touched.
     */
    private void endAbandonedTransactions() {
        long ended = Sql.admin()
                .count("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        + "WHERE datname = current_database() AND usename = 'tf_app' AND state = 'idle in transaction' "
                        + "AND now() - state_change > interval '2 seconds'");
        if (ended > 0) {
            System.err.println("TestServer.close: ended " + ended + " transaction(s) a closed server left open");
        }
    }

    /**
     * Ends this server as a crash would, for tests of what the other instances do when one dies:
     * its Vert.x is told to close and nobody waits. A crashed process finishes nothing, and a close
     * may not finish either: vertx-mail-client 5.0.8 answers a connection lost between the final
     * dot and the server's reply with a NullPointerException and never completes that send, so
     * its client's close (and Vert.x's) can wait for good.
     */
    public void kill() {
        vertx.close();
    }

    @Override
    public void close() {
        client.close();
        plainClient.close();
        await(vertx.close());
        endAbandonedTransactions();
        assertThat(BlockedThreadWatch.warningsSince(blockedBefore))
                .as("the blocked-thread checker stays silent")
                .isEmpty();
        List<String> violations = OpenApiResponseCheck.violations();
        assertThat(violations.subList(documentViolationsBefore, violations.size()))
                .as("every response this server gave the tests matches src/main/resources/openapi.yaml")
                .isEmpty();
    }
}
