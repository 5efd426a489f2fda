package uk.co.tradersflow.loadtest;

import com.icegreen.greenmail.util.GreenMail;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import jakarta.mail.internet.MimeMessage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import uk.co.tradersflow.platform.db.PgUrl;
import uk.co.tradersflow.support.FakeStripe;
import uk.co.tradersflow.support.Haproxy;
import uk.co.tradersflow.support.InvoiceRequests;
import uk.co.tradersflow.support.LocalSmtp;
import uk.co.tradersflow.support.OpsCli;
import uk.co.tradersflow.support.ServerProcess;
import uk.co.tradersflow.support.TestServer;

/**
 * Two server processes behind a real HAProxy, a mixed load through the balancer, one instance
 * killed with SIGKILL mid-run and restarted, optionally one stopped with SIGTERM (a rolling
 * deploy) and restarted, then everything counted in the database and the SMTP sink. Used by
 * {@code load-tests/two-instances.sh} (with {@link #main}) and, shorter, by {@code BehindHaproxyTest}.
 *
 * <p>The load: tradespeople listing invoices and reading {@code /me} (GETs), creating invoices
 * and sending them (each send queues one email), signing in, and Stripe delivering a signed
 * {@code payment_intent.succeeded} for sent invoices, each delivered twice (a duplicate) and
 * re-delivered until answered 2xx, as Stripe does. Mid-run, on the two instances directly:
 * sign-out-everywhere must refuse the old tokens on both within 1 s, and N wrong passwords split
 * across the instances must lock the user at N.
 */
public final class TwoInstances {
    static final String WEBHOOK_SECRET = "whsec_two_instances_load_0123456789";
    static final String PASSWORD = "two instances, one database";
    static final int LOGIN_MAX_FAILURES = 5;
    /**
     * What one instance may have handed to SMTP without having recorded it yet: its claimed batch
     * (EmailDispatchVerticle.BATCH), whose outcomes it records as the round ends.
     */
    static final int SENDS_IN_FLIGHT_PER_INSTANCE = 32;
    /** conf/haproxy: a server is marked down after two failed checks a second apart; with margin. */
    static final long DEAD_SERVER_DETECTION_MS = 3_000;
    /** The contract's cap on password-reset mails to one address in any hour, whoever asks from wherever. */
    static final int RESET_MAILS_PER_HOUR = 3;

    /**
     * What to run. Phases are at fractions of {@code seconds}: the kill at 0.3, SIGTERM at 0.6, the
     * cross-instance checks at 0.85 (later when a restart took longer). Readers and writers wait
     * {@code thinkMs} between requests: on two cores a load without pauses starves a restarting
     * instance of CPU for a minute. {@code gatling}: null for the driver's own reads and sign-ins;
     * {@code firstPort}: 0 for free ports.
     */
    public record Options(
            int seconds,
            boolean kill,
            boolean rolling,
            int readers,
            int writers,
            int thinkMs,
            int accounts,
            Path workDir,
            String adminUrl,
            String appUrl,
            String redisUrl,
            String redisPrefix,
            Gatling gatling,
            int firstPort) {
        public Options {
            workDir = workDir.toAbsolutePath();
        }
    }

    /**
     * A Gatling simulation of {@code load-tests/} (e.g. MixedSimulation) as the load through the
     * balancer instead of the driver's readers and sign-ins, at {@code users} concurrent users, fed
     * by {@code LoadSeed accounts invoicesPerAccount --customer --login}. The driver's writers
     * (invoices sent: the emails) and Stripe deliveries run beside it.
     */
    public record Gatling(String simulation, int users, int accounts, int invoicesPerAccount) {}

    /** The printed lines, and whether every check held. */
    public record Report(List<String> lines, boolean ok, long lost, long duplicated, long unexpectedFailures) {}

    /** One request's outcome: method, route, status (-1: no answer), when it started and ended (ms since the run's start). */
    record Outcome(String method, String route, int status, long start, long end) {
        boolean failed() {
            return status < 0 || status >= 500 || (status >= 400 && status != 401 && status != 429);
        }
    }

    record Tradesperson(String email, UUID account, String token, String customerId, String connectAccount) {}

    record SentInvoice(Tradesperson owner, String id, long totalPence) {}

    private final Options o;
    private final List<String> lines = new ArrayList<>();
    private final List<Outcome> outcomes = new CopyOnWriteArrayList<>();
    private final ConcurrentLinkedQueue<SentInvoice> toPay = new ConcurrentLinkedQueue<>();
    private final Set<String> eventsAnswered = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final AtomicLong duplicatesDelivered = new AtomicLong();
    private final long t0 = System.nanoTime();
    private volatile long killAt = -1;
    private volatile long termAt = -1;
    /** The same moments as wall-clock milliseconds, to place what Gatling and HAProxy logged. */
    private volatile long killAtEpochMs = -1;

    private volatile long termAtEpochMs = -1;
    private volatile boolean stop;
    private Vertx vertx;
    private WebClient balancer;

    private TwoInstances(Options options) {
        this.o = options;
    }

    /**
     * {@code [seconds=60] [--no-rolling] [--java-load]}: the load is Gatling's
     * {@code -Dsimulation} (MixedSimulation) at {@code -Dusers} (4), unless {@code --java-load}
     * asks for the driver's own; ports from {@code -DfirstPort} on (0: free ones).
     */
    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 60;
        boolean rolling = !List.of(args).contains("--no-rolling");
        Gatling gatling = List.of(args).contains("--java-load")
                ? null
                : new Gatling(
                        System.getProperty("simulation", "MixedSimulation"),
                        Integer.getInteger("users", 4),
                        Integer.getInteger("seedAccounts", 64),
                        Integer.getInteger("seedInvoices", 10));
        Map<String, String> env = System.getenv();
        Options options = new Options(
                seconds,
                true,
                rolling,
                Integer.getInteger("readers", 8),
                Integer.getInteger("writers", 3),
                Integer.getInteger("thinkMs", 10),
                Integer.getInteger("accounts", 6),
                Path.of(System.getProperty("workDir", "load-tests/target/two-instances")),
                required(env, "TF_DB_ADMIN_URL"),
                required(env, "TF_DB_URL"),
                env.getOrDefault("TF_REDIS_URL", "redis://127.0.0.1:6379"),
                env.getOrDefault("TF_REDIS_KEY_PREFIX", "tf-two-instances:"),
                gatling,
                Integer.getInteger("firstPort", 0));
        ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("com.icegreen"))
                .setLevel(ch.qos.logback.classic.Level.WARN);
        Report report = run(options);
        System.exit(report.ok() ? 0 : 1);
    }

    private static String required(Map<String, String> env, String name) {
        String value = env.get(name);
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(name + " must be set");
        }
        return value;
    }

    /** Runs the scenario; prints each line as it is known, the last being {@code lost N, duplicated M}. */
    public static Report run(Options options) throws Exception {
        return new TwoInstances(options).run();
    }

    private void say(String line) {
        System.out.println(line);
        lines.add(line);
    }

    private long now() {
        return (System.nanoTime() - t0) / 1_000_000;
    }

    private Report run() throws Exception {
        Files.createDirectories(o.workDir);
        Path devDir = Files.createDirectories(o.workDir.resolve("dev"));
        // From firstPort on, in this order: SMTP, s1 (HTTPS, HTTP), s2 (HTTPS, HTTP), HAProxy (HTTPS, HTTP, stats).
        AtomicInteger nextPort = new AtomicInteger(o.firstPort);
        IntSupplier ports = o.firstPort > 0 ? nextPort::getAndIncrement : TestServer::freePort;
        GreenMail smtp = LocalSmtp.start(ports.getAsInt());
        Map<String, String> shared = new HashMap<>();
        shared.put("TF_DB_URL", o.appUrl);
        shared.put("TF_DB_ADMIN_URL", o.adminUrl);
        shared.put("TF_REDIS_URL", o.redisUrl);
        shared.put("TF_REDIS_KEY_PREFIX", o.redisPrefix);
        // One key set for both instances: tokens and signed URLs one signs, the other verifies.
        shared.put("TF_DEV_DATA_DIR", devDir.toString());
        shared.put("TF_STORAGE_DIR", o.workDir.resolve("files").toString());
        shared.put("TF_PUBLIC_URL", "https://localhost");
        shared.put("TF_DEV_MAIL", "off");
        shared.put("TF_SMTP_PORT", Integer.toString(smtp.getSmtp().getPort()));
        shared.put("TF_SMTP_STARTTLS", "disabled");
        shared.put("TF_MAIL_FROM", "TradersFlow <no-reply@tradersflow.test>");
        shared.put("TF_STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET);
        // Behind the balancer: its address is trusted for X-Forwarded-For, and every connection comes from it.
        shared.put("TF_TRUSTED_PROXIES", "127.0.0.1/32");
        shared.put("TF_MAX_CONNECTIONS_PER_IP", "2000");
        shared.put("TF_API_RATE_PER_SECOND", "1000");
        shared.put("TF_API_BURST", "2000");
        shared.put("TF_LOGIN_IP_LIMIT_PER_MINUTE", "100000");
        shared.put("TF_LOGIN_MAX_FAILURES", Integer.toString(LOGIN_MAX_FAILURES));
        shared.put("TF_DB_POOL_SIZE", "8");
        shared.put("TF_LOG_FORMAT", "text");
        // Gatling's seeded tokens must outlive the run and its restarts.
        shared.put("TF_ACCESS_TOKEN_TTL_SECONDS", "3600");
        ServerProcess s1 = ServerProcess.of("s1", shared, o.workDir, ports);
        ServerProcess s2 = ServerProcess.of("s2", shared, o.workDir, ports);
        Haproxy haproxy = null;
        Process gatling = null;
        vertx = Vertx.vertx();
        try {
            // One after the other: the first creates the database, roles and development keys.
            s1.start();
            s2.start();
            haproxy = Haproxy.start(s1, s2, devDir, o.workDir, ports);
            haproxy.awaitState("s1", "UP", Duration.ofSeconds(10));
            haproxy.awaitState("s2", "UP", Duration.ofSeconds(10));
            say("two instances (pids " + s1.pid() + ", " + s2.pid() + ") behind haproxy on https://127.0.0.1:"
                    + haproxy.httpsPort + "; " + o.seconds + " s of load: "
                    + (o.gatling == null
                            ? o.readers + " readers"
                            : "Gatling " + o.gatling.simulation + " at " + o.gatling.users + " users")
                    + ", " + o.writers + " writers (invoice + send), Stripe deliveries");
            balancer = client(haproxy.httpsPort, 64);
            WebClient direct1 = client(s1.httpsPort, 4);
            WebClient direct2 = client(s2.httpsPort, 4);

            List<Tradesperson> people = new ArrayList<>();
            for (int i = 0; i < o.accounts; i++) {
                people.add(tradesperson(balancer, i));
            }
            Tradesperson signedOut = tradesperson(balancer, o.accounts);
            Tradesperson lockedOut = tradesperson(balancer, o.accounts + 1);
            Tradesperson suspended = tradesperson(balancer, o.accounts + 2);
            Tradesperson resetting = tradesperson(balancer, o.accounts + 3);

            if (o.gatling != null) {
                gatling = startGatling(shared, haproxy.httpsPort);
            }
            long end = now() + o.seconds * 1000L;
            List<Future<Void>> loops = new ArrayList<>();
            for (int i = 0; o.gatling == null && i < o.readers; i++) {
                Tradesperson p = people.get(i % people.size());
                loops.add(loop(() -> read(p)));
            }
            for (int i = 0; i < o.writers; i++) {
                Tradesperson p = people.get(i % people.size());
                loops.add(loop(() -> write(p)));
            }
            loops.add(loop(this::payOne));
            if (o.gatling == null) {
                loops.add(loop(() -> signInOnce(people)));
            }

            if (o.kill) {
                sleepUntil(end - o.seconds * 700L);
                killAt = now();
                killAtEpochMs = System.currentTimeMillis();
                s2.kill9();
                say("t=" + killAt / 1000.0 + " s: s2 killed with SIGKILL");
                Thread.sleep(2_000);
                s2.start();
                haproxy.awaitState("s2", "UP", Duration.ofSeconds(20));
                say("t=" + now() / 1000.0 + " s: s2 restarted and back in haproxy (UP)");
            }
            if (o.rolling) {
                sleepUntil(end - o.seconds * 400L);
                termAt = now();
                termAtEpochMs = System.currentTimeMillis();
                s1.sigterm();
                say("t=" + termAt / 1000.0 + " s: s1 sent SIGTERM (rolling deploy)");
                int code = s1.awaitExit(Duration.ofSeconds(40));
                say("t=" + now() / 1000.0 + " s: s1 exited with " + code + "; starting it again");
                s1.start();
                haproxy.awaitState("s1", "UP", Duration.ofSeconds(20));
                say("t=" + now() / 1000.0 + " s: s1 back in haproxy (UP)");
            }
            sleepUntil(end - o.seconds * 150L);
            // The cross-instance checks run while the load still does; then the load stops at the end.
            List<String> guards = new ArrayList<>();
            guards.add(logoutAllOnBothInstances(signedOut, direct1, direct2));
            guards.add(suspensionOnBothInstances(suspended, shared, direct1, direct2));
            guards.add(lockoutAcrossInstances(lockedOut, direct1, direct2));
            guards.add(resetMailCapAcrossInstances(resetting, direct1, direct2));
            // With Gatling, some load after the last restart too, however late that came.
            sleepUntil(o.gatling == null ? end : Math.max(end, now() + 5_000));
            stop = true;
            TestServer.await(Future.join(loops));
            GatlingRun load = null;
            if (gatling != null) {
                load = awaitGatling(gatling);
                gatling = null;
            }
            guards.removeIf(java.util.Objects::isNull);
            return count(smtp, guards, load);
        } finally {
            stop = true;
            if (gatling != null) {
                gatling.descendants().forEach(ProcessHandle::destroy); // Gatling's own JVM, forked by Maven
                gatling.destroy();
            }
            if (haproxy != null) {
                haproxy.close();
            }
            s1.close();
            s2.close();
            smtp.stop();
            TestServer.await(vertx.close());
        }
    }

    private void sleepUntil(long untilMs) throws InterruptedException {
        long wait = untilMs - now();
        if (wait > 0) {
            Thread.sleep(wait);
        }
    }

    private WebClient client(int port, int poolSize) {
        return WebClient.create(
                vertx,
                new WebClientOptions()
                        .setSsl(true)
                        .setTrustAll(true)
                        .setVerifyHost(false)
                        .setDefaultHost("127.0.0.1")
                        .setDefaultPort(port)
                        .setKeepAlive(true)
                        .setConnectTimeout(5_000)
                        .setIdleTimeout(30),
                new io.vertx.core.http.PoolOptions().setHttp1MaxSize(poolSize));
    }

    /** A request through {@code client}, its outcome recorded; fails only if nothing came back. */
    private Future<HttpResponse<Buffer>> call(
            WebClient client, HttpMethod method, String route, String uri, String token, Object body) {
        long start = now();
        var request = client.request(method, uri).timeout(20_000);
        if (token != null) {
            request.bearerTokenAuthentication(token);
        }
        Future<HttpResponse<Buffer>> sent;
        if (body instanceof JsonObject json) {
            sent = request.sendJsonObject(json);
        } else if (body instanceof Buffer raw) {
            request.putHeader("Content-Type", "application/json");
            sent = request.sendBuffer(raw);
        } else {
            sent = request.send();
        }
        return sent.andThen(ar -> outcomes.add(
                new Outcome(method.name(), route, ar.succeeded() ? ar.result().statusCode() : -1, start, now())));
    }

    /** Signs up through the balancer, verified behind the API's back, signs in, makes a customer. */
    private Tradesperson tradesperson(WebClient client, int i) throws SQLException {
        String email = "load-" + i + "-" + UUID.randomUUID().toString().substring(0, 8) + "@tradersflow-load.test";
        HttpResponse<Buffer> signup = TestServer.await(call(
                client,
                HttpMethod.POST,
                "signup",
                "/api/v1/auth/signup",
                null,
                new JsonObject().put("email", email).put("password", PASSWORD).put("businessName", "Load " + i)));
        check(signup.statusCode() == 201, "sign-up answered " + signup.statusCode() + " " + signup.bodyAsString());
        UUID account = UUID.fromString(signup.bodyAsJsonObject().getString("accountId"));
        String connect = "acct_load" + i + UUID.randomUUID().toString().substring(0, 6);
        try (Connection c = admin()) {
            update(c, "UPDATE users SET email_verified_at = now() WHERE email = ?", email);
            update(
                    c,
                    "INSERT INTO billing_accounts (account_id, connect_account_id, charges_enabled, payouts_enabled) "
                            + "VALUES (?, ?, true, true)",
                    account,
                    connect);
        }
        String token = signIn(client, email, PASSWORD).bodyAsJsonObject().getString("accessToken");
        HttpResponse<Buffer> customer = TestServer.await(call(
                client,
                HttpMethod.POST,
                "customers",
                "/api/v1/customers",
                token,
                new JsonObject().put("name", "Customer " + i).put("email", "customer-" + i + "@customers.test")));
        check(customer.statusCode() == 201, "customer answered " + customer.statusCode());
        return new Tradesperson(
                email, account, token, customer.bodyAsJsonObject().getString("id"), connect);
    }

    private HttpResponse<Buffer> signIn(WebClient client, String email, String password) {
        HttpResponse<Buffer> login = TestServer.await(call(
                client,
                HttpMethod.POST,
                "login",
                "/api/v1/auth/login",
                null,
                new JsonObject().put("email", email).put("password", password)));
        check(login.statusCode() == 200, "sign-in answered " + login.statusCode() + " " + login.bodyAsString());
        return login;
    }

    private static void check(boolean condition, String what) {
        if (!condition) {
            throw new IllegalStateException(what);
        }
    }

    /**
     * Runs {@code step} again each time it completes, until the stop. A loop, not a chain of
     * futures: completing thousands of nested futures at the end would overflow the stack.
     */
    private Future<Void> loop(java.util.function.Supplier<Future<?>> step) {
        Promise<Void> done = Promise.promise();
        Runnable[] next = new Runnable[1];
        next[0] = () -> {
            if (stop) {
                done.tryComplete();
                return;
            }
            Future<?> f;
            try {
                f = step.get();
            } catch (RuntimeException e) {
                f = Future.failedFuture(e);
            }
            f.onComplete(ar -> vertx.runOnContext(v -> next[0].run()));
        };
        vertx.runOnContext(v -> next[0].run());
        return done.future();
    }

    /** Lists invoices or reads /me. */
    private Future<?> read(Tradesperson p) {
        boolean list = ThreadLocalRandom.current().nextInt(3) > 0;
        return call(
                        balancer,
                        HttpMethod.GET,
                        list ? "GET /api/v1/invoices" : "GET /api/v1/me",
                        list ? "/api/v1/invoices?limit=20" : "/api/v1/me",
                        p.token,
                        null)
                .transform(ar -> pause(o.thinkMs));
    }

    /** Creates an invoice and sends it (one email queued per send). */
    private Future<?> write(Tradesperson p) {
        long unit = 1_000 + ThreadLocalRandom.current().nextInt(9_000);
        JsonObject body = new JsonObject()
                .put("customerId", p.customerId)
                .put("lines", new JsonArray().add(InvoiceRequests.line("Labour (hours)", 2, unit)));
        return call(balancer, HttpMethod.POST, "POST /api/v1/invoices", "/api/v1/invoices", p.token, body)
                .compose(created -> {
                    if (created.statusCode() != 201) {
                        return Future.succeededFuture();
                    }
                    JsonObject invoice = created.bodyAsJsonObject();
                    String id = invoice.getString("id");
                    return call(
                                    balancer,
                                    HttpMethod.POST,
                                    "POST /api/v1/invoices/{id}/send",
                                    "/api/v1/invoices/" + id + "/send",
                                    p.token,
                                    null)
                            .map(sent -> {
                                if (sent.statusCode() == 202) {
                                    toPay.add(new SentInvoice(p, id, invoice.getLong("totalPence")));
                                }
                                return (Void) null;
                            });
                })
                .transform(ar -> pause(o.thinkMs * 2L));
    }

    private Future<Void> pause(long ms) {
        Promise<Void> p = Promise.promise();
        vertx.setTimer(ms, t -> p.complete());
        return p.future();
    }

    /**
     * Stripe: for each sent invoice, a signed payment event on its connected account, delivered
     * until answered 2xx (as Stripe retries), then once more (a duplicate). An event started before
     * the stop is delivered to the end.
     */
    private Future<?> payOne() {
        SentInvoice invoice = toPay.poll();
        if (invoice == null) {
            return pause(100);
        }
        String id = "evt_load_" + UUID.randomUUID().toString().replace("-", "");
        JsonObject event = FakeStripe.event(
                        "payment_intent.succeeded",
                        new JsonObject()
                                .put(
                                        "id",
                                        "pi_load_"
                                                + UUID.randomUUID().toString().replace("-", ""))
                                .put("object", "payment_intent")
                                .put("amount_received", invoice.totalPence)
                                .put("currency", "gbp")
                                .put("metadata", new JsonObject().put("tf_invoice_id", invoice.id)),
                        invoice.owner.connectAccount,
                        com.stripe.Stripe.API_VERSION)
                .put("id", id);
        Buffer body = event.toBuffer();
        return deliverUntilAnswered(id, body, 0)
                .compose(v -> deliver(body))
                .map(dup -> {
                    if (dup.statusCode() == 200) {
                        duplicatesDelivered.incrementAndGet();
                    }
                    return (Void) null;
                })
                .transform(ar -> pause(50));
    }

    private Future<HttpResponse<Buffer>> deliver(Buffer body) {
        String signature = FakeStripe.sign(WEBHOOK_SECRET, Instant.now().getEpochSecond(), body.toString());
        long start = now();
        return balancer.request(HttpMethod.POST, "/webhooks/stripe")
                .timeout(20_000)
                .putHeader("Stripe-Signature", signature)
                .putHeader("Content-Type", "application/json")
                .sendBuffer(body)
                .andThen(ar -> outcomes.add(new Outcome(
                        "POST",
                        "POST /webhooks/stripe",
                        ar.succeeded() ? ar.result().statusCode() : -1,
                        start,
                        now())));
    }

    private Future<Void> deliverUntilAnswered(String id, Buffer body, int attempt) {
        return deliver(body).transform(ar -> {
            if (ar.succeeded() && ar.result().statusCode() / 100 == 2) {
                eventsAnswered.add(id);
                return Future.succeededFuture();
            }
            if (attempt >= 30) {
                return Future.failedFuture("event " + id + " never answered 2xx");
            }
            return pause(1_000).compose(v -> deliverUntilAnswered(id, body, attempt + 1));
        });
    }

    /** A sign-in every half second, through the balancer, round the tradespeople. */
    private Future<?> signInOnce(List<Tradesperson> people) {
        Tradesperson p = people.get(ThreadLocalRandom.current().nextInt(people.size()));
        return call(
                        balancer,
                        HttpMethod.POST,
                        "POST /api/v1/auth/login",
                        "/api/v1/auth/login",
                        null,
                        new JsonObject().put("email", p.email).put("password", PASSWORD))
                .transform(ar -> pause(500));
    }

    /**
     * Two sessions of one user, one opened on each instance and each used on both (so both
     * instances cache them as live); sign-out-everywhere through the balancer; then both tokens
     * must be refused (401) on both instances within 1 s. Answers the failure, or null.
     */
    private String logoutAllOnBothInstances(Tradesperson user, WebClient direct1, WebClient direct2) {
        List<String> tokens = liveOnBoth(user, direct1, direct2);
        HttpResponse<Buffer> out = TestServer.await(call(
                balancer,
                HttpMethod.POST,
                "POST /api/v1/auth/logout-all",
                "/api/v1/auth/logout-all",
                tokens.get(0),
                null));
        check(out.statusCode() == 204, "logout-all answered " + out.statusCode());
        return refusedOnBoth("logout-all", tokens, 401, direct1, direct2);
    }

    /**
     * The same for a suspension, made as an operator makes one ({@code suspend-account}, straight
     * into the database, no instance told): both tokens answered 403 on both instances within 1 s.
     */
    private String suspensionOnBothInstances(
            Tradesperson user, Map<String, String> settings, WebClient direct1, WebClient direct2) {
        List<String> tokens = liveOnBoth(user, direct1, direct2);
        OpsCli.Run run = OpsCli.run(
                settings, "suspend-account", "--account", user.account.toString(), "--reason", "two-instances check");
        check(run.exit() == 0, "suspend-account exited " + run.exit() + ": " + run.err());
        return refusedOnBoth("suspension", tokens, 403, direct1, direct2);
    }

    /** Signs {@code user} in on each instance and uses both sessions on both; the two access tokens. */
    private List<String> liveOnBoth(Tradesperson user, WebClient direct1, WebClient direct2) {
        List<String> tokens = List.of(
                signIn(direct1, user.email, PASSWORD).bodyAsJsonObject().getString("accessToken"),
                signIn(direct2, user.email, PASSWORD).bodyAsJsonObject().getString("accessToken"));
        for (WebClient c : List.of(direct1, direct2)) {
            for (String token : tokens) {
                HttpResponse<Buffer> me =
                        TestServer.await(call(c, HttpMethod.GET, "GET /api/v1/me", "/api/v1/me", token, null));
                check(me.statusCode() == 200, "a live session answered " + me.statusCode());
            }
        }
        return tokens;
    }

    /**
     * Each token on each instance polled on its own, back to back, from now: the time to the first
     * {@code status} answer of each, the slowest counted. The failure if over 1 s, or null.
     */
    private String refusedOnBoth(String what, List<String> tokens, int status, WebClient direct1, WebClient direct2) {
        long since = System.nanoTime();
        List<Future<Long>> refused = new ArrayList<>();
        for (WebClient c : List.of(direct1, direct2)) {
            for (String token : tokens) {
                refused.add(refusedAfter(c, token, status, since));
            }
        }
        TestServer.await(Future.all(refused));
        long slowest = refused.stream().mapToLong(Future::result).max().orElse(-1);
        if (refused.stream().allMatch(f -> f.result() >= 0)) {
            say(what + ": both sessions refused (" + status + ") on both instances " + slowest + " ms after it");
        } else {
            say(what + ": a session still worked 5 s after it");
        }
        return slowest >= 0 && slowest <= 1_000 && refused.stream().allMatch(f -> f.result() >= 0)
                ? null
                : what + " did not refuse the sessions on both instances within 1 s";
    }

    /** Milliseconds from {@code since} to the end of the first {@code status} for {@code token} on {@code c}; -1 if none within 5 s. */
    private Future<Long> refusedAfter(WebClient c, String token, int status, long since) {
        return c.request(HttpMethod.GET, "/api/v1/me")
                .bearerTokenAuthentication(token)
                .timeout(5_000)
                .send()
                .transform(ar -> {
                    long ms = (System.nanoTime() - since) / 1_000_000;
                    if (ar.succeeded() && ar.result().statusCode() == status) {
                        return Future.succeededFuture(ms);
                    }
                    if (ms > 5_000) {
                        return Future.succeededFuture(-1L);
                    }
                    return pause(10).compose(v -> refusedAfter(c, token, status, since));
                });
    }

    /**
     * N wrong passwords, alternating between the instances, then the right one on each: refused
     * with 429 on both if the lockout counted all N attempts wherever they landed.
     */
    private String lockoutAcrossInstances(Tradesperson user, WebClient direct1, WebClient direct2) {
        List<Integer> statuses = new ArrayList<>();
        for (int i = 0; i < LOGIN_MAX_FAILURES; i++) {
            WebClient c = i % 2 == 0 ? direct1 : direct2;
            statuses.add(TestServer.await(c.request(HttpMethod.POST, "/api/v1/auth/login")
                            .sendJsonObject(
                                    new JsonObject().put("email", user.email).put("password", "wrong " + i)))
                    .statusCode());
        }
        for (WebClient c : List.of(direct1, direct2)) {
            statuses.add(TestServer.await(c.request(HttpMethod.POST, "/api/v1/auth/login")
                            .sendJsonObject(
                                    new JsonObject().put("email", user.email).put("password", PASSWORD)))
                    .statusCode());
        }
        List<Integer> expected = new ArrayList<>();
        for (int i = 0; i < LOGIN_MAX_FAILURES - 1; i++) {
            expected.add(401);
        }
        boolean ok = statuses.subList(0, LOGIN_MAX_FAILURES - 1).equals(expected)
                && statuses.subList(LOGIN_MAX_FAILURES, statuses.size()).equals(List.of(429, 429));
        String line = "lockout: " + LOGIN_MAX_FAILURES + " wrong passwords split across s1/s2 answered "
                + statuses.subList(0, LOGIN_MAX_FAILURES) + ", then the right password "
                + statuses.subList(LOGIN_MAX_FAILURES, statuses.size()) + " (s1, s2): "
                + (ok ? "locked at " + LOGIN_MAX_FAILURES : "NOT locked");
        say(line);
        return ok ? null : line;
    }

    /**
     * A rate limit shared through Redis: twice the hourly cap of password-reset requests for one
     * address, alternating between the instances, each answered 202 (the contract's rule), must
     * queue exactly the cap's number of reset mails, counted in the outbox.
     */
    private String resetMailCapAcrossInstances(Tradesperson user, WebClient direct1, WebClient direct2)
            throws SQLException, InterruptedException {
        List<Integer> statuses = new ArrayList<>();
        for (int i = 0; i < 2 * RESET_MAILS_PER_HOUR; i++) {
            WebClient c = i % 2 == 0 ? direct1 : direct2;
            statuses.add(TestServer.await(c.request(HttpMethod.POST, "/api/v1/auth/password-reset/request")
                            .sendJsonObject(new JsonObject().put("email", user.email)))
                    .statusCode());
        }
        long queued;
        try (Connection c = admin()) {
            String count = "SELECT count(*) FROM email_outbox WHERE recipient = ? AND template = 'password_reset'";
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (scalar(c, count, user.email) < RESET_MAILS_PER_HOUR && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            Thread.sleep(1_000); // a late extra one would show now
            queued = scalar(c, count, user.email);
        }
        boolean ok = statuses.stream().allMatch(s -> s == 202) && queued == RESET_MAILS_PER_HOUR;
        String line = "rate limit: " + 2 * RESET_MAILS_PER_HOUR + " password-reset requests for one address split "
                + "across s1/s2 answered " + statuses + ", reset mails queued " + queued + " (cap "
                + RESET_MAILS_PER_HOUR + " an hour): " + (ok ? "limited at " + RESET_MAILS_PER_HOUR : "NOT limited");
        say(line);
        return ok ? null : line;
    }

    /** What Gatling reported: its request and failure counts (-1: unknown), and each failure it logged. */
    record GatlingRun(int exit, long requests, long failed, List<GatlingFailure> failures) {}

    /** One failed Gatling request: when it ended (wall clock), its name ("POST /api/v1/invoices"), why. */
    record GatlingFailure(long epochMs, String request, String error) {
        private static final Pattern LINE = Pattern.compile("^(\\S+Z) Request '(.*)' failed for user \\d+: (.*)$");

        /** A line of gatling-failures.log that reports a failed request (the debug dumps below it are not). */
        static Optional<GatlingFailure> of(String line) {
            Matcher m = LINE.matcher(line);
            return m.matches()
                    ? Optional.of(new GatlingFailure(Instant.parse(m.group(1)).toEpochMilli(), m.group(2), m.group(3)))
                    : Optional.empty();
        }

        /**
         * In flight on the instance killed at {@code killAtEpochMs}, or written to it before HAProxy
         * marked it down: not a GET (HAProxy retries those), failed within
         * {@link #DEAD_SERVER_DETECTION_MS} of the kill.
         */
        boolean atKill(long killAtEpochMs) {
            return killAtEpochMs >= 0
                    && !request.startsWith("GET ")
                    && epochMs >= killAtEpochMs
                    && epochMs <= killAtEpochMs + DEAD_SERVER_DETECTION_MS;
        }
    }

    /**
     * Seeds the simulation's tradespeople (LoadSeed, with the servers' settings so the tokens are
     * signed with their key), writes its upload file, starts {@code mvn gatling:test} in
     * {@code load-tests/} against the balancer and returns once the simulation has started (Maven
     * and Gatling start a JVM each: the run's phases count from the simulation's own start).
     * Gatling's failed requests are logged, one line each with its time, to gatling-failures.log.
     */
    private Process startGatling(Map<String, String> settings, int balancerPort)
            throws IOException, InterruptedException {
        Gatling g = o.gatling;
        Path tokens = o.workDir.resolve("tokens.csv");
        String java = ProcessHandle.current().info().command().orElse("java");
        ProcessBuilder seed = new ProcessBuilder(
                        java,
                        "-cp",
                        System.getProperty("java.class.path"),
                        LoadSeed.class.getName(),
                        Integer.toString(g.accounts),
                        Integer.toString(g.invoicesPerAccount),
                        tokens.toString(),
                        "--customer",
                        "--login")
                .redirectErrorStream(true)
                .redirectOutput(o.workDir.resolve("seed.log").toFile());
        seed.environment().keySet().removeIf(k -> k.startsWith("TF_"));
        seed.environment().putAll(settings);
        int seeded = seed.start().waitFor();
        check(seeded == 0, "LoadSeed exited with " + seeded + "; see " + o.workDir.resolve("seed.log"));

        // The upload: JPEG magic, then random bytes so nothing compresses (as run.sh writes it).
        byte[] jpeg = new byte[1024 * 1024];
        ThreadLocalRandom.current().nextBytes(jpeg);
        System.arraycopy(new byte[] {(byte) 0xff, (byte) 0xd8, (byte) 0xff, (byte) 0xe0}, 0, jpeg, 0, 4);
        Path file = Files.write(o.workDir.resolve("mixed.jpg"), jpeg);
        Path logback = Files.writeString(
                o.workDir.resolve("gatling-logback.xml"),
                """
                <configuration>
                  <appender name="CONSOLE" class="ch.qos.logback.core.ConsoleAppender">
                    <encoder><pattern>%d{HH:mm:ss.SSS} %-5level %logger{15} - %msg%n</pattern></encoder>
                  </appender>
                  <appender name="FAILURES" class="ch.qos.logback.core.FileAppender">
                    <file>FAILURES_FILE</file>
                    <encoder><pattern>%d{"yyyy-MM-dd'T'HH:mm:ss.SSS'Z'",UTC} %msg%n</pattern></encoder>
                  </appender>
                  <logger name="io.gatling.http.engine.response" level="DEBUG" additivity="false">
                    <appender-ref ref="FAILURES"/>
                  </logger>
                  <root level="WARN"><appender-ref ref="CONSOLE"/></root>
                </configuration>
                """
                        .replace(
                                "FAILURES_FILE",
                                o.workDir.resolve("gatling-failures.log").toString()));
        Path log = o.workDir.resolve("gatling.log");
        ProcessBuilder builder = new ProcessBuilder(
                        "mvn",
                        "-B",
                        "-o",
                        "gatling:test",
                        "-Dsimulation=tradersflow." + g.simulation,
                        "-DbaseUrl=https://127.0.0.1:" + balancerPort,
                        "-Dtokens=" + tokens,
                        // Until the driver asks it to stop (after the kill, the rolling deploy, both restarts
                        // and the checks, however long a cold start takes on a loaded host), at most this long.
                        "-Dseconds=" + (o.seconds * 5 + 600),
                        "-DstopFile=" + gatlingStopFile(),
                        "-Dusers=" + g.users,
                        "-DmixedFile=" + file,
                        // The simulation's own assertions (no failure at all) cannot hold with a SIGKILL: the
                        // driver judges its failures below, against the moment of the kill.
                        "-DfailOnError=false",
                        "-Dlogback.configurationFile=" + logback)
                .directory(Path.of("load-tests").toAbsolutePath().toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        Process gatling = builder.start();
        long deadline = System.nanoTime() + 300_000_000_000L;
        while (!gatlingLog().contains(" started...")) {
            if (!gatling.isAlive() || System.nanoTime() > deadline) {
                gatling.destroy();
                throw new IllegalStateException("Gatling did not start its simulation; see " + log);
            }
            Thread.sleep(200);
        }
        say("t=" + now() / 1000.0 + " s: Gatling " + g.simulation + " started through the balancer (" + g.users
                + " users; seeded " + g.accounts + " tradespeople x " + g.invoicesPerAccount + " invoices)");
        return gatling;
    }

    private Path gatlingStopFile() {
        return o.workDir.resolve("gatling.stop");
    }

    private String gatlingLog() throws IOException {
        return new String(Files.readAllBytes(o.workDir.resolve("gatling.log")), StandardCharsets.ISO_8859_1);
    }

    /** Asks Gatling to stop and waits for it to end; its counts from the report's stats.js and its logged failures. */
    private GatlingRun awaitGatling(Process gatling) throws IOException, InterruptedException {
        Files.writeString(gatlingStopFile(), "stop\n");
        if (!gatling.waitFor(240L, TimeUnit.SECONDS)) {
            gatling.destroy();
            throw new IllegalStateException("Gatling did not finish; see " + o.workDir.resolve("gatling.log"));
        }
        long requests = -1;
        long failed = -1;
        Matcher report = Pattern.compile("file://(\\S+)/index\\.html").matcher(gatlingLog());
        if (report.find()) {
            Path stats = Path.of(report.group(1), "js", "stats.js");
            // The first numberOfRequests in stats.js is the whole run's.
            Matcher counts = Pattern.compile(
                            "numberOfRequests\"?\\s*:\\s*\\{\\s*\"?total\"?\\s*:\\s*\"?(\\d+)\"?\\s*,\\s*\"?ok\"?\\s*:\\s*\"?(\\d+)\"?\\s*,\\s*\"?ko\"?\\s*:\\s*\"?(\\d+)\"?")
                    .matcher(Files.exists(stats) ? Files.readString(stats) : "");
            if (counts.find()) {
                requests = Long.parseLong(counts.group(1));
                failed = Long.parseLong(counts.group(3));
            }
        }
        List<GatlingFailure> failures = new ArrayList<>();
        Path failureLog = o.workDir.resolve("gatling-failures.log");
        for (String l : Files.exists(failureLog) ? Files.readAllLines(failureLog) : List.<String>of()) {
            GatlingFailure.of(l).ifPresent(failures::add);
        }
        return new GatlingRun(gatling.exitValue(), requests, failed, failures);
    }

    /**
     * Gatling's failures judged against the SIGKILL ({@link GatlingFailure#atKill}): anything else,
     * and any failure Gatling counted but did not log, is unexpected. Answers the unexpected count.
     */
    private long judgeGatling(GatlingRun run, List<String> problems) {
        long atKill = 0;
        long afterTerm = 0;
        Map<String, Long> atKillByRequest = new java.util.TreeMap<>();
        Map<String, Long> otherByRequest = new java.util.TreeMap<>();
        for (GatlingFailure f : run.failures) {
            if (f.atKill(killAtEpochMs)) {
                atKill++;
                atKillByRequest.merge(f.request + ": " + f.error, 1L, Long::sum);
            } else {
                otherByRequest.merge(f.request + ": " + f.error, 1L, Long::sum);
            }
            if (termAtEpochMs >= 0 && f.epochMs >= termAtEpochMs) {
                afterTerm++;
            }
        }
        long unlogged = Math.max(0, run.failed - run.failures.size());
        long unexpected = run.failures.size() - atKill + unlogged;
        say("gatling " + o.gatling.simulation + ": requests " + run.requests + ", failed " + run.failed + " (logged "
                + run.failures.size() + "): in flight on the killed instance " + atKill
                + (atKillByRequest.isEmpty() ? "" : " " + atKillByRequest) + "; other failures " + unexpected
                + (otherByRequest.isEmpty() ? "" : " " + otherByRequest)
                + (termAtEpochMs >= 0 ? "; from the SIGTERM on " + afterTerm : "") + " (mvn exit " + run.exit + ")");
        if (run.requests <= 0 || run.failed < 0) {
            problems.add("Gatling's counts were not found (see gatling.log)");
        }
        if (unexpected > 0) {
            problems.add(unexpected + " Gatling requests failed that the balancer should have carried");
        }
        return unexpected;
    }

    /**
     * The balancer's own log (conf/haproxy: {@code option httplog}): every request through it, with
     * the server that answered, the status and the retries ("+" when redispatched to the other
     * server). Prints how many GETs HAProxy retried and what it answered 5xx, and fails the run if
     * any request that reached HAProxy from the SIGTERM on was answered 5xx.
     */
    private void judgeBalancerLog(List<String> problems) throws IOException {
        long total = 0;
        long gets = 0;
        long getsRetried = 0;
        long getsRedispatched = 0;
        long fromTerm = 0;
        long fromTermFailed = 0;
        Map<String, Long> fiveHundreds = new java.util.TreeMap<>();
        for (String l : Files.readAllLines(o.workDir.resolve("haproxy.log"), StandardCharsets.ISO_8859_1)) {
            Optional<BalancedRequest> parsed = BalancedRequest.of(l);
            if (parsed.isEmpty()) {
                continue;
            }
            BalancedRequest r = parsed.get();
            total++;
            if (r.method.equals("GET")) {
                gets++;
                getsRetried += r.retries > 0 ? 1 : 0;
                getsRedispatched += r.redispatched ? 1 : 0;
            }
            if (r.status >= 500) {
                fiveHundreds.merge(r.method + " " + r.status + " via " + r.server, 1L, Long::sum);
            }
            if (termAtEpochMs >= 0 && r.endEpochMs >= termAtEpochMs) {
                fromTerm++;
                fromTermFailed += r.status >= 500 ? 1 : 0;
            }
        }
        say("haproxy log: requests " + total + " (" + gets + " GET); GETs retried by HAProxy " + getsRetried
                + " (redispatched to the other server " + getsRedispatched + "); answered 5xx " + fiveHundreds);
        if (termAtEpochMs >= 0) {
            say("rolling deploy (SIGTERM), at the balancer: " + fromTerm
                    + " requests from the SIGTERM on, answered 5xx " + fromTermFailed);
            if (fromTermFailed > 0) {
                problems.add(fromTermFailed + " requests through the balancer failed during the rolling deploy");
            }
        }
    }

    /**
     * One request in HAProxy's log ({@code option httplog}: accept date, frontend, backend/server,
     * TR/Tw/Tc/Tr/Ta, status, …, actconn/feconn/beconn/srv_conn/retries, queues, "method uri").
     * Retries are prefixed "+" when the last went to another server (redispatch). Only the
     * tradersflow backends' requests: not the test's own stats listener.
     */
    record BalancedRequest(
            long startEpochMs,
            long endEpochMs,
            String server,
            int status,
            int retries,
            boolean redispatched,
            String method) {
        private static final Pattern LINE = Pattern.compile(
                "\\[(\\d{2}/\\w{3}/\\d{4}:\\d{2}:\\d{2}:\\d{2}\\.\\d{3})\\] \\S+ tradersflow\\S*/(\\S+) \\S+/\\S+/\\S+/\\S+/(-?\\d+) (-?\\d+) "
                        + ".* \\d+/\\d+/\\d+/\\d+/(\\+?)(\\d+) \\d+/\\d+ \"(\\S+) ");
        private static final java.time.format.DateTimeFormatter ACCEPTED =
                java.time.format.DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss.SSS", java.util.Locale.ENGLISH);

        /** A request line of the log, in HAProxy's local time zone (this host's); empty for any other line. */
        static Optional<BalancedRequest> of(String line) {
            Matcher m = LINE.matcher(line);
            if (!m.find()) {
                return Optional.empty();
            }
            long start = java.time.LocalDateTime.parse(m.group(1), ACCEPTED)
                    .atZone(java.time.ZoneId.systemDefault())
                    .toInstant()
                    .toEpochMilli();
            return Optional.of(new BalancedRequest(
                    start,
                    start + Math.max(0, Long.parseLong(m.group(3))),
                    m.group(2),
                    Integer.parseInt(m.group(4)),
                    Integer.parseInt(m.group(6)),
                    !m.group(5).isEmpty(),
                    m.group(7)));
        }
    }

    /** The verdict line of load-tests/check-invoice-numbers.sql (its last statement), over JDBC. */
    private static String invoiceNumbersVerdict(Connection c) throws IOException, SQLException {
        String script = Files.readString(Path.of("load-tests/check-invoice-numbers.sql"));
        String[] statements = script.lines()
                .filter(l -> !l.startsWith("--") && !l.startsWith("\\"))
                .collect(java.util.stream.Collectors.joining("\n"))
                .split(";");
        String verdict = java.util.Arrays.stream(statements)
                .filter(st -> !st.isBlank())
                .reduce((a, b) -> b)
                .orElseThrow();
        try (PreparedStatement ps = c.prepareStatement(verdict);
                ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getString(1);
        }
    }

    private Connection admin() throws SQLException {
        PgUrl url = PgUrl.parse(o.adminUrl);
        return DriverManager.getConnection(url.jdbcUrl(), url.jdbcProperties());
    }

    private static int update(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            return ps.executeUpdate();
        }
    }

    private static long scalar(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** Waits for the outbox and the event log to settle, then compares what went in with what came out. */
    private Report count(GreenMail smtp, List<String> guardFailures, GatlingRun load) throws Exception {
        List<String> problems = new ArrayList<>(guardFailures);
        String[] ids = eventsAnswered.toArray(String[]::new);
        try (Connection c = admin()) {
            long deadline = System.nanoTime() + 120_000_000_000L;
            while (System.nanoTime() < deadline
                    && (scalar(c, "SELECT count(*) FROM email_outbox WHERE status IN ('queued', 'sending')") > 0
                            || scalar(
                                            c,
                                            "SELECT count(*) FROM stripe_events WHERE id = ANY(?) AND status NOT IN ('processed', 'ignored')",
                                            c.createArrayOf("text", ids))
                                    > 0)) {
                Thread.sleep(500);
            }
            // A message handed to SMTP just before the count may still be on its way into the sink.
            Thread.sleep(1_000);

            // Requests: GETs are retried by the balancer, so none may fail; a POST may fail only if it
            // was in flight on the killed instance. Nothing may fail because of the SIGTERM.
            long total = outcomes.size();
            long unexpected = 0;
            long inFlightAtKill = 0;
            Map<String, Long> failedByRoute = new HashMap<>();
            Map<String, Long> atKillByRoute = new HashMap<>();
            for (Outcome r : outcomes) {
                if (!r.failed()) {
                    continue;
                }
                // Or sent just after it, before HAProxy saw the instance die: a POST written on a pooled
                // connection to the dead instance cannot be retried (it may have been received), so the
                // balancer answers it as failed until its checks mark the server down (fall 2 × 1 s).
                boolean atKill = killAt >= 0
                        && !r.method.equals("GET")
                        && r.end >= killAt
                        && (r.start <= killAt + 50
                                || (r.start <= killAt + DEAD_SERVER_DETECTION_MS && (r.status < 0 || r.status == 502)));
                if (atKill) {
                    inFlightAtKill++;
                    atKillByRoute.merge(r.route + " " + r.status, 1L, Long::sum);
                } else {
                    unexpected++;
                    failedByRoute.merge(r.route + " " + r.status, 1L, Long::sum);
                }
            }
            long gets = outcomes.stream().filter(r -> r.method.equals("GET")).count();
            long getsFailed = outcomes.stream()
                    .filter(r -> r.method.equals("GET") && r.failed())
                    .count();
            long afterTerm = termAt < 0
                    ? 0
                    : outcomes.stream().filter(r -> r.end >= termAt).count();
            long afterTermFailed = termAt < 0
                    ? 0
                    : outcomes.stream()
                            .filter(r -> r.end >= termAt && r.failed())
                            .count();
            say("requests " + total + " (" + gets + " GET): failed GETs " + getsFailed
                    + "; POSTs in flight on the killed instance that failed " + inFlightAtKill
                    + (atKillByRoute.isEmpty() ? "" : " " + atKillByRoute) + "; other failures "
                    + unexpected + (failedByRoute.isEmpty() ? "" : " " + failedByRoute));
            if (termAt >= 0) {
                say("rolling deploy (SIGTERM): " + afterTerm + " requests from the SIGTERM on, failed "
                        + afterTermFailed);
            }
            if (unexpected > 0) {
                problems.add(unexpected + " requests failed that the balancer should have carried");
            }
            if (load != null) {
                unexpected += judgeGatling(load, problems);
            }
            judgeBalancerLog(problems);

            // Email: every queued message sent once: outbox rows against distinct Message-IDs received.
            long queued = scalar(c, "SELECT count(*) FROM email_outbox");
            long sentRows = scalar(c, "SELECT count(*) FROM email_outbox WHERE status = 'sent'");
            MimeMessage[] received = smtp.getReceivedMessages();
            Map<String, Integer> perMessage = new HashMap<>();
            for (MimeMessage m : received) {
                String messageId = m.getMessageID();
                String outboxId = messageId == null ? "?" : messageId.replaceAll("^<|@.*$", "");
                perMessage.merge(outboxId, 1, Integer::sum);
            }
            Set<String> outboxIds = new HashSet<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT id::text FROM email_outbox");
                    ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    outboxIds.add(rs.getString(1));
                }
            }
            long emailsLost =
                    outboxIds.stream().filter(id -> !perMessage.containsKey(id)).count();
            long emailsDuplicated =
                    perMessage.values().stream().mapToLong(n -> n - 1).sum();
            long strangers = perMessage.keySet().stream()
                    .filter(id -> !outboxIds.contains(id))
                    .count();
            // SMTP takes no transaction: a message the SIGKILLed instance had handed to the SMTP server
            // but not yet recorded as sent goes out again after its lease, with the same Message-ID (and
            // X-TF-Message-Id), which is what a receiver dedupes on. That much, and only that much (the
            // killed instance's sends in flight, each repeated once at most), is the crash's; any other
            // repeat is a duplicate.
            long resentAfterKill = emailsDuplicated;
            boolean onlyTheCrashs = resentAfterKill <= SENDS_IN_FLIGHT_PER_INSTANCE
                    && perMessage.values().stream().allMatch(n -> n <= 2);
            long emailsDuplicatedBeyondTheCrash = onlyTheCrashs ? 0 : emailsDuplicated;
            say("emails: queued " + queued + " (outbox rows), marked sent " + sentRows + ", received by SMTP "
                    + received.length + " (" + perMessage.size() + " distinct Message-IDs, " + strangers
                    + " not from the outbox): lost " + emailsLost + ", duplicated " + emailsDuplicatedBeyondTheCrash
                    + "; re-sent with their own Message-ID after the SIGKILL " + resentAfterKill
                    + " (allowed: up to " + SENDS_IN_FLIGHT_PER_INSTANCE + ", once each)");

            // Stripe: each event answered 2xx stored once and applied once (one invoice.paid audit entry).
            long stored =
                    scalar(c, "SELECT count(*) FROM stripe_events WHERE id = ANY(?)", c.createArrayOf("text", ids));
            long processed = scalar(
                    c,
                    "SELECT count(*) FROM stripe_events WHERE id = ANY(?) AND status = 'processed'",
                    c.createArrayOf("text", ids));
            long applied = scalar(
                    c,
                    "SELECT count(DISTINCT details->>'stripeEvent') FROM audit_log WHERE action = 'invoice.paid' "
                            + "AND details->>'stripeEvent' = ANY(?)",
                    c.createArrayOf("text", ids));
            long appliedTwice = scalar(
                    c,
                    "SELECT count(*) - count(DISTINCT details->>'stripeEvent') FROM audit_log WHERE action = 'invoice.paid' "
                            + "AND details->>'stripeEvent' = ANY(?)",
                    c.createArrayOf("text", ids));
            long paidTwice = scalar(
                    c,
                    "SELECT count(*) FROM (SELECT target_id FROM audit_log WHERE action = 'invoice.paid' "
                            + "AND details->>'stripeEvent' = ANY(?) GROUP BY target_id HAVING count(*) > 1) t",
                    c.createArrayOf("text", ids));
            long eventsLost = ids.length - applied;
            say("stripe events: received (answered 2xx) " + ids.length + ", redelivered as duplicates "
                    + duplicatesDelivered.get() + ", stored " + stored + ", processed " + processed + ", applied "
                    + applied + " (invoice.paid audit entries; applied twice " + appliedTwice + ", invoices paid twice "
                    + paidTwice + "): lost " + eventsLost + ", duplicated " + (appliedTwice + paidTwice));

            // Invoice numbers: per account 1..n, no gap, no repeat, the counter at n.
            String verdict = invoiceNumbersVerdict(c);
            say("invoice numbers (load-tests/check-invoice-numbers.sql): " + verdict);
            if (!verdict.startsWith("GAP-FREE")) {
                problems.add("invoice numbers are not 1..n in every account");
            }
            if (strangers > 0) {
                problems.add(strangers + " messages received that the outbox does not hold");
            }
            long lost = emailsLost + eventsLost;
            long duplicated = emailsDuplicatedBeyondTheCrash + appliedTwice + paidTwice;
            for (String problem : problems) {
                say("FAILED: " + problem);
            }
            say("lost " + lost + ", duplicated " + duplicated);
            return new Report(
                    List.copyOf(lines),
                    problems.isEmpty() && lost == 0 && duplicated == 0,
                    lost,
                    duplicated,
                    unexpected);
        }
    }
}
