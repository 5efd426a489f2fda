package uk.co.tradersflow.platform.db;

import static org.assertj.core.api.Assertions.assertThat;

import com.icegreen.greenmail.util.GreenMail;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.sql.Connection;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.support.FakeStripe;
import uk.co.tradersflow.support.InvoiceRequests;
import uk.co.tradersflow.support.LocalSmtp;
import uk.co.tradersflow.support.OwnPostgres;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.Sql;
import uk.co.tradersflow.support.TestServer;

/**
 * PostgreSQL restarted under a running server (issue 22): the server's own cluster
 * ({@link OwnPostgres}) is stopped as an operator's restart stops it ({@code pg_ctl stop -m fast})
 * while invoices are being created, kept down for a few seconds, and started again. While it is
 * down every request answers 503 well inside the pools' 5 s borrow timeout and readiness says
 * {@code db}; once it is back the pools reconnect by themselves and work queued in the database
 * (email outbox, Stripe events) goes on; no invoice is left half-written.
 */
class PostgresRestartTest {
    private static final String WEBHOOK_SECRET = "whsec_restart_test_0123456789";
    /** The pools' borrow timeout ({@link Db#BORROW_TIMEOUT}, 5 s) and a second for the HTTP round trip. */
    private static final long ANSWER_LIMIT_MS = Db.BORROW_TIMEOUT.toMillis() + 1_000;

    private static final int LINES = 3;
    private static final int LANES = 6;

    static OwnPostgres pg;
    static GreenMail smtp;
    static TestServer server;

    @RegisterExtension
    static final ServerExtension lifecycle = ServerExtension.with(() -> {
                pg = OwnPostgres.start();
                smtp = LocalSmtp.start();
                Map<String, String> settings = new HashMap<>(pg.settings());
                settings.put("TF_STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET);
                settings.put("TF_MAIL_FROM", "TradersFlow <no-reply@tradersflow.test>");
                // 503s come back in milliseconds: the test's loops must not run into the per-user API limit.
                settings.put("TF_API_RATE_PER_SECOND", "1000");
                settings.put("TF_API_BURST", "2000");
                return LocalSmtp.settings(smtp, settings);
            })
            .closing(() -> pg)
            .closing(() -> smtp == null ? null : smtp::stop)
            .then(s -> server = s);

    /** One answer: what it was, how long it took, and whether PostgreSQL was down when it was asked. */
    record Answer(String what, int status, String code, long millis, boolean duringOutage) {}

    @Test
    void whileItIsDownEveryRequestAnswers503QuicklyAndAfterItIsBackThePoolsReconnectAndQueuedWorkResumes()
            throws Exception {
        UUID account = UUID.randomUUID();
        String token = user(account);
        String customer = server.createCustomer(token);
        assertThat(ready().statusCode()).isEqualTo(200);

        String domain = UUID.randomUUID() + ".test";
        List<UUID> emails = queueEmailsDueIn(account, domain, 5, 3);
        String storedEvent = storeStripeEventDueIn(3);

        AtomicBoolean down = new AtomicBoolean();
        AtomicBoolean go = new AtomicBoolean(true);
        ConcurrentLinkedQueue<Answer> answers = new ConcurrentLinkedQueue<>();
        Map<String, Boolean> createdIds = new ConcurrentHashMap<>();
        List<Future<Void>> lanes = new ArrayList<>();
        for (int lane = 0; lane < LANES; lane++) {
            lanes.add(lane(
                    go,
                    () -> timed(
                            "POST /api/v1/invoices",
                            down,
                            server.request(HttpMethod.POST, "/api/v1/invoices", token)
                                    .sendJsonObject(invoice(customer)),
                            answers,
                            createdIds)));
        }
        Thread.sleep(1_500); // invoices being created when it stops

        pg.stop();
        down.set(true);
        long stoppedAt = System.nanoTime();
        List<HttpResponse<Buffer>> readiness = new ArrayList<>();
        String deliveredWhileDown = null;
        while (System.nanoTime() - stoppedAt < 6_000_000_000L) {
            long t0 = System.nanoTime();
            HttpResponse<Buffer> r = ready();
            answers.add(
                    new Answer("GET /health/ready", r.statusCode(), null, (System.nanoTime() - t0) / 1_000_000, true));
            readiness.add(r);
            timedNow(
                    "GET /api/v1/customers",
                    down,
                    server.request(HttpMethod.GET, "/api/v1/customers", token).send(),
                    answers);
            if (deliveredWhileDown == null) {
                JsonObject event =
                        FakeStripe.event("customer.created", new JsonObject().put("id", "cus_x"), null, "2025-01-01");
                HttpResponse<Buffer> w = deliver(event);
                answers.add(new Answer("POST /webhooks/stripe", w.statusCode(), code(w), 0, true));
                assertThat(w.statusCode())
                        .as("Stripe is told to deliver again: " + w.bodyAsString())
                        .isEqualTo(503);
                deliveredWhileDown = event.encode();
            }
            Thread.sleep(300);
        }

        pg.startAgain();
        down.set(false);
        long restartedAt = System.nanoTime();
        awaitReady(30);
        long readyAfterMs = (System.nanoTime() - restartedAt) / 1_000_000;
        Thread.sleep(1_500); // more invoices once it is back
        go.set(false);
        TestServer.await(Future.all(lanes));

        List<Answer> during = answers.stream().filter(Answer::duringOutage).toList();
        System.out.printf(
                "PostgresRestartTest: %d answers while PostgreSQL was down, slowest %d ms (limit %d ms); ready again %d ms after the restart%n",
                during.size(),
                during.stream().mapToLong(Answer::millis).max().orElse(0),
                ANSWER_LIMIT_MS,
                readyAfterMs);
        assertThat(during).as("requests were made while it was down").hasSizeGreaterThan(10);
        assertThat(during).allSatisfy(a -> {
            assertThat(a.millis()).as(a.toString()).isLessThan(ANSWER_LIMIT_MS);
            assertThat(a.status()).as(a.toString()).isIn(201, 503);
        });
        assertThat(during.stream().filter(a -> a.status() == 503 && a.what().startsWith("GET /api")))
                .as("API requests while down are 503 service_unavailable")
                .isNotEmpty()
                .allSatisfy(a -> assertThat(a.code()).isEqualTo("service_unavailable"));
        assertThat(readiness).allSatisfy(r -> {
            assertThat(uk.co.tradersflow.support.Readiness.dbDown(r))
                    .as(r.bodyAsString())
                    .isTrue();
        });
        assertThat(answers.stream().filter(a -> !a.duringOutage()))
                .as("nothing but 201 or 503 around the outage either")
                .allSatisfy(a -> assertThat(a.status()).as(a.toString()).isIn(201, 503));

        // The pools reconnect: the same requests work again, on every pool.
        assertThat(server.send(HttpMethod.GET, "/api/v1/customers", token).statusCode())
                .isEqualTo(200);
        assertThat(server.send(HttpMethod.POST, "/api/v1/invoices", token, invoice(customer))
                        .statusCode())
                .isEqualTo(201);

        // No half-written invoice: each has all its lines or does not exist; every 201 was committed.
        try (Connection c = pg.admin()) {
            Sql sql = Sql.on(c);
            long invoices = wholeAndStored(sql, account, createdIds.keySet());
            assertThat(sql.count("SELECT coalesce(max(number), 0) FROM invoices WHERE account_id = ?", account))
                    .as(
                            "numbers stay gap-free (unique, and the highest is the count): a rolled-back creation gives its number back")
                    .isEqualTo(invoices);
            System.out.printf(
                    "PostgresRestartTest: %d invoices stored, %d answered 201, %d answered 503%n",
                    invoices,
                    createdIds.size(),
                    answers.stream()
                            .filter(a -> a.what().startsWith("POST /api") && a.status() == 503)
                            .count());
        }

        // Queued work resumes: the outbox rows due during the outage go out once each, the stored
        // event is handled, and Stripe's redelivery of the one refused while down is stored and handled.
        assertThat(LocalSmtp.receivedFor(smtp, domain, emails.size(), 20)).hasSize(emails.size());
        HttpResponse<Buffer> redelivered = deliver(new JsonObject(deliveredWhileDown));
        assertThat(redelivered.statusCode()).as(redelivered.bodyAsString()).isEqualTo(200);
        String redeliveredId = new JsonObject(deliveredWhileDown).getString("id");
        awaitEventHandled(storedEvent, 20);
        awaitEventHandled(redeliveredId, 20);
        Thread.sleep(1_000);
        assertThat(smtp.getReceivedMessagesForDomain(domain)).as("each once").hasSize(emails.size());
        try (Connection c = pg.admin()) {
            assertThat(Sql.on(c)
                            .count(
                                    "SELECT count(*) FROM email_outbox WHERE id = ANY(?::uuid[]) AND status = 'sent' AND attempts = 1",
                                    (Object) emails.stream().map(UUID::toString).toArray(String[]::new)))
                    .isEqualTo(emails.size());
        }
    }

    /**
     * An answer in the frozen test: whether it was asked while frozen, answered while frozen, and
     * whether it was in flight when the freeze began (asked before, answered after).
     */
    record FrozenAnswer(
            String what,
            int status,
            String code,
            String detail,
            long millis,
            boolean askedFrozen,
            boolean answeredFrozen,
            boolean inFlightAtFreeze) {}

    /**
     * PostgreSQL frozen (SIGSTOP: its sockets stay open, nothing answers, as behind a network
     * partition) while invoices are being created: the units of work that hold a connection at that
     * moment, and every request asked while it is frozen, answer 503 within the borrow timeout (the
     * units' budget, {@link Db#UNIT_TIMEOUT}, is the same 5 s) instead of hanging until it wakes;
     * readiness says db DOWN within its 2 s check timeout. Once it is thawed everything works, no
     * invoice is half-written, and every stored invoice was either answered 201 or answered 503
     * saying that whether it was saved is unknown (its COMMIT was in flight).
     */
    @Test
    void whileItIsFrozenEveryRequestAnswers503WithinTheBorrowTimeoutAndNothingIsAppliedLate() throws Exception {
        UUID account = UUID.randomUUID();
        String token = user(account);
        String customer = server.createCustomer(token);
        ConcurrentLinkedQueue<FrozenAnswer> answers = new ConcurrentLinkedQueue<>();
        Map<String, Boolean> created = new ConcurrentHashMap<>();
        AtomicBoolean frozen = new AtomicBoolean();
        AtomicBoolean froze = new AtomicBoolean(); // set at the freeze, never cleared
        AtomicBoolean go = new AtomicBoolean(true);
        List<Future<?>> pending = new ArrayList<>();
        // A connection per request in flight: the shared client's pool (5) would queue requests in the
        // test behind the ones the server is holding, and time the queue instead of the server.
        WebClient wide = WebClient.create(
                server.vertx,
                uk.co.tradersflow.support.TrustAllTls.webClient(
                        server.config.http().httpsPort()),
                new PoolOptions().setHttp1MaxSize(100));
        TestServer.await(Future.all(java.util.stream.IntStream.range(0, 60)
                .mapToObj(i -> wide.get("/health/live").send())
                .toList()));
        Supplier<Future<?>> createInvoice = () -> frozenTimed(
                "POST /api/v1/invoices",
                frozen,
                froze,
                wide.request(HttpMethod.POST, "/api/v1/invoices")
                        .timeout(20_000)
                        .bearerTokenAuthentication(token)
                        .sendJsonObject(invoice(customer)),
                answers,
                created);
        List<Future<Void>> lanes = new ArrayList<>();
        for (int lane = 0; lane < LANES; lane++) {
            lanes.add(lane(go, createInvoice));
        }
        Thread.sleep(1_500); // units of work in flight when it freezes
        pg.freeze();
        frozen.set(true);
        froze.set(true);
        try {
            long frozenAt = System.nanoTime();
            while (System.nanoTime() - frozenAt < 8_000_000_000L) {
                pending.add(frozenTimed(
                        "GET /api/v1/customers",
                        frozen,
                        froze,
                        wide.request(HttpMethod.GET, "/api/v1/customers")
                                .timeout(20_000)
                                .bearerTokenAuthentication(token)
                                .send(),
                        answers,
                        created));
                pending.add(frozenTimed(
                        "GET /health/ready",
                        frozen,
                        froze,
                        wide.request(HttpMethod.GET, "/health/ready")
                                .timeout(20_000)
                                .send(),
                        answers,
                        created));
                Thread.sleep(500);
            }
            // Answers still owed at the end of the freeze must come within the limit too.
            Thread.sleep(ANSWER_LIMIT_MS);
        } finally {
            frozen.set(false);
            pg.thaw();
        }
        awaitReady(30);
        Thread.sleep(1_000); // more invoices once it is back
        go.set(false);
        TestServer.await(Future.all(lanes));
        TestServer.await(Future.join(pending));
        wide.close();

        List<FrozenAnswer> during =
                answers.stream().filter(FrozenAnswer::askedFrozen).toList();
        List<FrozenAnswer> caught =
                answers.stream().filter(FrozenAnswer::inFlightAtFreeze).toList();
        System.out.printf(
                "PostgresRestartTest (frozen): %d asked while frozen, slowest %d ms (limit %d ms); %d in flight when it froze, slowest %d ms; %d answered 201, %d 503 saying the outcome is unknown%n",
                during.size(),
                during.stream().mapToLong(FrozenAnswer::millis).max().orElse(0),
                ANSWER_LIMIT_MS,
                caught.size(),
                caught.stream().mapToLong(FrozenAnswer::millis).max().orElse(0),
                created.size(),
                answers.stream().filter(PostgresRestartTest::outcomeUnknown).count());
        assertThat(during).as("requests were made while it was frozen").hasSizeGreaterThan(10);
        assertThat(caught).as("requests were in flight when it froze").isNotEmpty();
        assertThat(answers).allSatisfy(a -> {
            assertThat(a.status()).as(a.toString()).isIn(200, 201, 503);
            if (a.askedFrozen() || a.inFlightAtFreeze()) {
                assertThat(a.millis()).as(a.toString()).isLessThan(ANSWER_LIMIT_MS);
            }
        });
        // The lanes go on asking up to the thaw: one asked in its last seconds may be answered after it.
        assertThat(during.stream().filter(FrozenAnswer::answeredFrozen))
                .allSatisfy(a -> assertThat(a.status()).as(a.toString()).isEqualTo(503));
        assertThat(during.stream().filter(a -> a.what().startsWith("POST") && a.answeredFrozen()))
                .as("invoices asked while frozen")
                .isNotEmpty()
                .allSatisfy(a -> assertThat(a.code()).as(a.toString()).isEqualTo("service_unavailable"));
        // The probes stopped a whole answer limit before the thaw.
        assertThat(during.stream().filter(a -> a.what().startsWith("GET")))
                .allSatisfy(a -> assertThat(a.answeredFrozen())
                        .as("answered before it was thawed: " + a)
                        .isTrue());
        assertThat(during.stream().filter(a -> a.what().startsWith("GET /api")))
                .allSatisfy(a -> assertThat(a.code()).as(a.toString()).isEqualTo("service_unavailable"));
        assertThat(during.stream().filter(a -> a.what().equals("GET /health/ready")))
                .isNotEmpty()
                .allSatisfy(a -> {
                    assertThat(a.millis()).as(a.toString()).isLessThan(2_000 + 1_000);
                    assertThat(a.detail()).as(a.toString()).contains("\"db\":{\"status\":\"DOWN\"");
                });
        assertThat(caught)
                .as("units of work holding a connection when it froze answer while it is frozen, not once it wakes")
                .allSatisfy(a -> assertThat(a.answeredFrozen()).as(a.toString()).isTrue());
        assertThat(caught.stream().filter(a -> a.status() == 503))
                .isNotEmpty()
                .allSatisfy(a -> assertThat(a.code()).as(a.toString()).isEqualTo("service_unavailable"));

        // After the thaw everything works, on every pool.
        assertThat(server.send(HttpMethod.GET, "/api/v1/customers", token).statusCode())
                .isEqualTo(200);
        assertThat(server.send(HttpMethod.POST, "/api/v1/invoices", token, invoice(customer))
                        .statusCode())
                .isEqualTo(201);
        long unknown =
                answers.stream().filter(PostgresRestartTest::outcomeUnknown).count();
        try (Connection c = pg.admin()) {
            Sql sql = Sql.on(c);
            long invoices = wholeAndStored(sql, account, created.keySet());
            // +1: the one created above, after the thaw.
            assertThat(invoices - created.size() - 1)
                    .as("an invoice stored without a 201 was answered 503 'whether it was saved is unknown'")
                    .isBetween(0L, unknown);
            assertThat(sql.count("SELECT coalesce(max(number), 0) FROM invoices WHERE account_id = ?", account))
                    .as(
                            "numbers stay gap-free: a creation rolled back when its connection was discarded gives its number back")
                    .isEqualTo(invoices);
        }
    }

    private static boolean outcomeUnknown(FrozenAnswer a) {
        return a.status() == 503 && a.detail() != null && a.detail().contains("whether this change was saved");
    }

    private static Future<?> frozenTimed(
            String what,
            AtomicBoolean frozen,
            AtomicBoolean froze,
            Future<HttpResponse<Buffer>> sent,
            ConcurrentLinkedQueue<FrozenAnswer> answers,
            Map<String, Boolean> created) {
        long t0 = System.nanoTime();
        boolean askedFrozen = frozen.get();
        boolean askedBefore = !froze.get();
        return sent.andThen(ar -> {
            long ms = (System.nanoTime() - t0) / 1_000_000;
            if (ar.failed()) {
                answers.add(new FrozenAnswer(
                        what + " (" + ar.cause() + ")",
                        -1,
                        null,
                        null,
                        ms,
                        askedFrozen,
                        frozen.get(),
                        askedBefore && froze.get()));
                return;
            }
            HttpResponse<Buffer> r = ar.result();
            String body = r.bodyAsString();
            String detail = what.equals("GET /health/ready") ? body : detail(r);
            answers.add(new FrozenAnswer(
                    what, r.statusCode(), code(r), detail, ms, askedFrozen, frozen.get(), askedBefore && froze.get()));
            if (r.statusCode() == 201) {
                JsonObject invoice = r.bodyAsJsonObject();
                assertThat(invoice.getJsonArray("lines")).hasSize(LINES);
                created.put(invoice.getString("id"), true);
            }
        });
    }

    private static String detail(HttpResponse<Buffer> r) {
        try {
            return r.bodyAsJsonObject().getString("detail");
        } catch (RuntimeException notProblem) {
            return null;
        }
    }

    /** Sends {@code request} again as soon as each answer arrives, until {@code go} is cleared. */
    private static Future<Void> lane(AtomicBoolean go, Supplier<Future<?>> request) {
        Promise<Void> done = Promise.promise();
        Runnable[] next = new Runnable[1];
        next[0] = () -> {
            if (!go.get()) {
                done.tryComplete();
                return;
            }
            request.get().onComplete(ar -> server.vertx.runOnContext(v -> next[0].run()));
        };
        server.vertx.runOnContext(v -> next[0].run());
        return done.future();
    }

    private static Future<?> timed(
            String what,
            AtomicBoolean down,
            Future<HttpResponse<Buffer>> sent,
            ConcurrentLinkedQueue<Answer> answers,
            Map<String, Boolean> created) {
        long t0 = System.nanoTime();
        boolean wasDown = down.get();
        return sent.andThen(ar -> {
            long ms = (System.nanoTime() - t0) / 1_000_000;
            if (ar.failed()) {
                answers.add(new Answer(what + " (" + ar.cause() + ")", -1, null, ms, wasDown || down.get()));
                return;
            }
            HttpResponse<Buffer> r = ar.result();
            answers.add(new Answer(what, r.statusCode(), code(r), ms, wasDown || down.get()));
            if (r.statusCode() == 201) {
                JsonObject body = r.bodyAsJsonObject();
                assertThat(body.getJsonArray("lines")).hasSize(LINES);
                created.put(body.getString("id"), true);
            }
        });
    }

    private static void timedNow(
            String what, AtomicBoolean down, Future<HttpResponse<Buffer>> sent, ConcurrentLinkedQueue<Answer> answers) {
        long t0 = System.nanoTime();
        HttpResponse<Buffer> r = TestServer.await(sent);
        answers.add(new Answer(what, r.statusCode(), code(r), (System.nanoTime() - t0) / 1_000_000, down.get()));
    }

    private static String code(HttpResponse<Buffer> r) {
        try {
            return r.bodyAsJsonObject().getString("code");
        } catch (RuntimeException notProblem) {
            return null;
        }
    }

    private static JsonObject invoice(String customer) {
        JsonArray lines = new JsonArray();
        for (int i = 0; i < LINES; i++) {
            lines.add(InvoiceRequests.line("Work " + i, 1, 1_000 + i));
        }
        return new JsonObject().put("customerId", customer).put("lines", lines);
    }

    private static HttpResponse<Buffer> ready() {
        return TestServer.await(server.request(HttpMethod.GET, "/health/ready").send());
    }

    private static void awaitReady(int seconds) throws InterruptedException {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        while (ready().statusCode() != 200) {
            assertThat(System.nanoTime())
                    .as("ready again within " + seconds + " s")
                    .isLessThan(deadline);
            Thread.sleep(100);
        }
    }

    private static HttpResponse<Buffer> deliver(JsonObject event) {
        String body = event.encode();
        return TestServer.await(server.request(HttpMethod.POST, "/webhooks/stripe")
                .putHeader("Content-Type", "application/json")
                .putHeader(
                        "Stripe-Signature",
                        FakeStripe.sign(WEBHOOK_SECRET, Instant.now().getEpochSecond(), body))
                .sendBuffer(Buffer.buffer(body)));
    }

    /** A user of a new account, in this test's own database (TestUsers writes to the run's shared one). */
    private static String user(UUID account) throws Exception {
        UUID user = UUID.randomUUID();
        UUID session = UUID.randomUUID();
        String email = "restart-" + user + "@example.test";
        try (Connection c = pg.admin()) {
            Sql sql = Sql.on(c);
            sql.update("INSERT INTO accounts (id, business_name) VALUES (?, 'Restart Ltd')", account);
            sql.update(
                    "INSERT INTO users (id, account_id, email, email_verified_at, password_set_by_reset_at) VALUES (?, ?, ?, now(), now())",
                    user,
                    account,
                    email);
            sql.update(
                    "INSERT INTO sessions (id, account_id, user_id, expires_at) VALUES (?, ?, ?, ?)",
                    session,
                    account,
                    user,
                    OffsetDateTime.now().plusDays(1));
        }
        return server.main.accessTokens().mint(user, account, session, Optional.empty());
    }

    /** Outbox rows that fall due while PostgreSQL will be down. */
    private static List<UUID> queueEmailsDueIn(UUID account, String domain, int count, int seconds) throws Exception {
        List<UUID> ids = new ArrayList<>();
        try (Connection c = pg.admin()) {
            for (int i = 0; i < count; i++) {
                UUID id = UUID.randomUUID();
                Sql.on(c)
                        .update(
                                "INSERT INTO email_outbox (id, account_id, template, recipient, model, dedupe_key, next_attempt_at) "
                                        + "VALUES (?, ?, 'password_reset', ?, ?::jsonb, ?, now() + ? * interval '1 second')",
                                id,
                                account,
                                "restart-" + i + "@" + domain,
                                new JsonObject()
                                        .put("resetUrl", "https://app.test/reset-password?token=restart" + i)
                                        .encode(),
                                "restart:" + id,
                                seconds);
                ids.add(id);
            }
        }
        return ids;
    }

    /** A stored Stripe event whose handling falls due while PostgreSQL will be down. */
    private static String storeStripeEventDueIn(int seconds) throws Exception {
        JsonObject e = FakeStripe.event("customer.created", new JsonObject().put("id", "cus_y"), null, "2025-01-01");
        try (Connection c = pg.admin()) {
            Sql.on(c)
                    .update(
                            "INSERT INTO stripe_events (id, type, created, status, next_attempt_at, payload) "
                                    + "VALUES (?, ?, now(), 'pending', now() + ? * interval '1 second', ?::jsonb)",
                            e.getString("id"),
                            e.getString("type"),
                            seconds,
                            e.encode());
        }
        return e.getString("id");
    }

    private static void awaitEventHandled(String id, int seconds) throws Exception {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        String status = null;
        while (System.nanoTime() < deadline) {
            try (Connection c = pg.admin()) {
                status = Sql.on(c)
                        .find("SELECT status FROM stripe_events WHERE id = ?", id)
                        .orElse(null);
            }
            if ("ignored".equals(status) || "processed".equals(status)) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("Stripe event " + id + " not handled within " + seconds + " s: " + status);
    }

    /** Invoices of {@code account} whose lines are not all there: a half-written creation. */
    private static long invoicesWithoutAllTheirLines(Sql sql, java.util.UUID account) {
        return sql.count(
                "SELECT count(*) FROM invoices i WHERE account_id = ? AND (SELECT count(*) FROM invoice_lines l "
                        + "WHERE l.account_id = i.account_id AND l.invoice_id = i.id) <> " + LINES,
                account);
    }

    /**
     * No half-written invoice (each has all its lines or does not exist) and every invoice answered
     * 201 is stored; answers how many the account has.
     */
    private static long wholeAndStored(Sql sql, UUID account, java.util.Set<String> answered201) {
        assertThat(invoicesWithoutAllTheirLines(sql, account))
                .as("invoices without all their lines")
                .isZero();
        assertThat(sql.count(
                        "SELECT count(*) FROM invoices WHERE account_id = ? AND id = ANY(?::uuid[])",
                        account,
                        answered201.toArray(String[]::new)))
                .as("every invoice answered 201 is stored")
                .isEqualTo(answered201.size());
        return sql.count("SELECT count(*) FROM invoices WHERE account_id = ?", account);
    }
}
