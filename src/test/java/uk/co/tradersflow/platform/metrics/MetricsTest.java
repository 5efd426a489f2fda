package uk.co.tradersflow.platform.metrics;

import static io.vertx.core.http.HttpMethod.GET;
import static io.vertx.core.http.HttpMethod.POST;
import static org.assertj.core.api.Assertions.assertThat;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import com.stripe.Stripe;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.email.StandardWebhookVerifier;
import uk.co.tradersflow.support.Eventually;
import uk.co.tradersflow.support.FakeStripe;
import uk.co.tradersflow.support.Scrape;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.Sql;
import uk.co.tradersflow.support.TestEmails;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/**
 * Every figure the alerts and the dashboard read is on {@code /metrics} once the thing it counts
 * has happened, under the documented name and labels, and the request histogram's labels stay
 * bounded whatever URLs clients make up.
 */
class MetricsTest {
    static final String STRIPE_SECRET = "whsec_metrics_test_secret_0123";
    static final String EMAIL_SECRET = "whsec_"
            + Base64.getEncoder().encodeToString("a-metrics-signing-key-32-bytes!!".getBytes(StandardCharsets.UTF_8));
    static final String PASSWORD = "correct horse battery staple";
    static final String HTTP = "tf_http_server_requests_seconds";

    static FakeStripe fake;
    static GreenMail smtp;
    static TestServer server;
    static TestUsers users;

    @RegisterExtension
    static final ServerExtension lifecycle = ServerExtension.with(() -> {
                fake = new FakeStripe();
                int smtpPort = TestServer.freePort();
                smtp = new GreenMail(new ServerSetup(smtpPort, "127.0.0.1", ServerSetup.PROTOCOL_SMTP));
                smtp.start();
                Map<String, String> s = new HashMap<>();
                s.put("TF_STRIPE_SECRET_KEY", "sk_test_fake_key_for_tests");
                s.put("TF_STRIPE_API_BASE", fake.base());
                s.put("TF_STRIPE_WEBHOOK_SECRET", STRIPE_SECRET);
                s.put("TF_STRIPE_PRICE_ID", "price_test_monthly");
                s.put("TF_EMAIL_WEBHOOK_SECRET", EMAIL_SECRET);
                s.put("TF_SMTP_PORT", Integer.toString(smtpPort));
                s.put("TF_SMTP_STARTTLS", "disabled");
                s.put("TF_LOGIN_MAX_FAILURES", "2");
                s.put("TF_LOGIN_IP_LIMIT_PER_MINUTE", "1000");
                s.put("TF_API_RATE_PER_SECOND", "1");
                s.put("TF_API_BURST", "20");
                s.put("TF_OWNER_EMAILS", "owner@tradersflow.test");
                return s;
            })
            .closing(() -> fake)
            .closing(() -> smtp == null ? null : smtp::stop)
            .then(s -> server = s)
            .then(s -> users = new TestUsers(s));

    // ------------------------------------------------------------------------------ HTTP latency

    @Test
    void requestLatencyIsAHistogramByRouteTemplateMethodAndStatusClass() {
        TestUser user = users.create();
        assertThat(server.send(GET, "/api/v1/customers", user.token()).statusCode())
                .isEqualTo(200);
        assertThat(server.send(GET, "/api/v1/customers/" + UUID.randomUUID(), user.token())
                        .statusCode())
                .isEqualTo(404);
        TestServer.await(server.request(GET, "/nowhere/" + UUID.randomUUID()).send());

        // A request is timed when its response has ended on the server, which may be just after the
        // client has read it; the scrape can reach the other event loop first.
        Scrape m = Scrape.of(server);
        for (int i = 0;
                i < 40
                        && !(m.has(HTTP + "_bucket", Map.of("route", "unmatched", "status", "4xx"))
                                && m.has(HTTP + "_bucket", Map.of("route", "/api/v1/customers/{id}", "status", "4xx")));
                i++) {
            TestServer.await(server.vertx.timer(50));
            m = Scrape.of(server);
        }
        assertThat(m.text()).contains("# TYPE " + HTTP + " histogram");
        assertThat(m.has(
                        HTTP + "_bucket",
                        Map.of("route", "/api/v1/customers", "method", "GET", "status", "2xx", "le", "0.25")))
                .isTrue();
        assertThat(m.has(HTTP + "_bucket", Map.of("route", "/api/v1/customers/{id}", "status", "4xx", "le", "+Inf")))
                .as(String.join("\n", m.series(HTTP + "_count")))
                .isTrue();
        assertThat(m.has(HTTP + "_bucket", Map.of("route", "unmatched", "status", "4xx")))
                .isTrue();
        assertThat(m.value(HTTP + "_count", Map.of("route", "/api/v1/customers/{id}", "status", "4xx")))
                .isGreaterThanOrEqualTo(1);
        // No label carries a raw path: every route value is a template or "unmatched".
        assertThat(m.series(HTTP + "_bucket")).noneMatch(l -> l.matches(".*route=\"[^\"]*[0-9a-f]{8}-[0-9a-f]{4}.*"));
    }

    @Test
    void aThousandDistinctUrlsAddNoSeries() {
        // One of each shape first, so the series the flood falls into exist before counting.
        TestServer.await(
                server.request(GET, "/api/v1/invoices/" + UUID.randomUUID()).send());
        TestServer.await(server.request(GET, "/no/such/page/0").send());
        Scrape.of(server); // a scrape is a request too: its own series exist before the count
        int before = Scrape.of(server).series(HTTP + "_bucket").size();

        for (int batch = 0; batch < 10; batch++) {
            List<Future<?>> sends = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                String path = i % 2 == 0
                        ? "/api/v1/invoices/" + UUID.randomUUID()
                        : "/no/such/page/" + batch + "-" + i + "?q=" + UUID.randomUUID();
                sends.add(server.request(GET, path).send());
            }
            TestServer.await(Future.join(sends));
        }

        Scrape after = Scrape.of(server);
        assertThat(after.series(HTTP + "_bucket")).hasSize(before);
        assertThat(after.value(HTTP + "_count", Map.of("route", "/api/v1/invoices/{id}", "status", "4xx")))
                .isGreaterThanOrEqualTo(500);
    }

    // --------------------------------------------------------------------------- security events

    private static double security(String event) {
        return Scrape.of(server).value("tf_security_events_total", Map.of("event", event));
    }

    private static HttpResponse<Buffer> post(String path, JsonObject body) {
        return TestServer.await(server.request(POST, path).sendJsonObject(body));
    }

    @Test
    void everySecurityEventIsCountedWhereItHappens() throws Exception {
        Scrape start = Scrape.of(server);
        for (SecurityEvents.Event e : SecurityEvents.Event.values()) {
            // All there from the start, at their running totals: rate() needs no first occurrence.
            assertThat(start.has("tf_security_events_total", Map.of("event", Tally.labelOf(e))))
                    .as(e.name())
                    .isTrue();
        }

        double loginFailed = security("login_failed");
        double lockout = security("lockout");
        String stranger = "nobody-" + UUID.randomUUID() + "@example.test";
        for (int i = 0; i < 2; i++) {
            assertThat(post(
                                    "/api/v1/auth/login",
                                    new JsonObject().put("email", stranger).put("password", "wrong " + i))
                            .statusCode())
                    .isEqualTo(401);
        }
        assertThat(security("login_failed")).isGreaterThanOrEqualTo(loginFailed + 2);
        assertThat(security("lockout")).isGreaterThanOrEqualTo(lockout + 1);

        double rateLimited = security("rate_limited");
        assertThat(post(
                                "/api/v1/auth/login",
                                new JsonObject().put("email", stranger).put("password", "wrong again"))
                        .statusCode())
                .isEqualTo(429);
        TestUser busy = users.create();
        List<Future<HttpResponse<Buffer>>> burst = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            burst.add(server.request(GET, "/api/v1/customers", busy.token()).send());
        }
        TestServer.await(Future.join(burst));
        assertThat(burst).anyMatch(f -> f.result().statusCode() == 429);
        assertThat(security("rate_limited")).isGreaterThanOrEqualTo(rateLimited + 2);

        double tokenRejected = security("token_rejected");
        assertThat(server.send(GET, "/api/v1/customers", "not-a-token").statusCode())
                .isEqualTo(401);
        assertThat(security("token_rejected")).isGreaterThanOrEqualTo(tokenRejected + 1);

        double adminDenied = security("admin_denied");
        assertThat(server.send(GET, "/admin/api/email/health", users.create().token())
                        .statusCode())
                .isEqualTo(403);
        assertThat(security("admin_denied")).isGreaterThanOrEqualTo(adminDenied + 1);

        double signedUrl = security("signed_url_rejected");
        String forged = "/files/" + UUID.randomUUID() + "/" + UUID.randomUUID() + "?expires="
                + (Instant.now().getEpochSecond() + 600) + "&epoch=0&sig=" + "A".repeat(43);
        assertThat(TestServer.await(server.request(GET, forged).send()).statusCode())
                .isEqualTo(403);
        assertThat(security("signed_url_rejected")).isGreaterThanOrEqualTo(signedUrl + 1);

        double webhookRejected = security("webhook_rejected");
        String event = FakeStripe.event(
                        "customer.created", new JsonObject().put("id", "cus_x"), null, Stripe.API_VERSION)
                .encode();
        assertThat(stripe(
                                event,
                                FakeStripe.sign(
                                        "whsec_not_ours_at_all", Instant.now().getEpochSecond(), event))
                        .statusCode())
                .isEqualTo(400);
        String emailEvent = new JsonObject()
                .put("type", "email.delivered")
                .put("created_at", Instant.now().toString())
                .put("data", new JsonObject())
                .encode();
        assertThat(emailWebhook("msg_" + UUID.randomUUID(), emailEvent, "v1,bm90IHRoZSBzaWduYXR1cmU=")
                        .statusCode())
                .isEqualTo(400);
        assertThat(security("webhook_rejected")).isGreaterThanOrEqualTo(webhookRejected + 2);

        double resets = security("password_reset_requested");
        assertThat(post("/api/v1/auth/password-reset/request", new JsonObject().put("email", stranger))
                        .statusCode())
                .isEqualTo(202);
        assertThat(security("password_reset_requested")).isGreaterThanOrEqualTo(resets + 1);

        double reuse = security("refresh_reuse");
        String spent = spentRefreshToken();
        assertThat(post("/api/v1/auth/refresh", new JsonObject().put("refreshToken", spent))
                        .statusCode())
                .isEqualTo(401);
        assertThat(security("refresh_reuse")).isGreaterThanOrEqualTo(reuse + 1);
    }

    /** Signs up, verifies, signs in, rotates the refresh token, and moves the old one out of its grace period. */
    private static String spentRefreshToken() throws Exception {
        String email = "trader-" + UUID.randomUUID() + "@example.test";
        assertThat(server.signUp(email, PASSWORD).statusCode()).isEqualTo(201);
        String link = queryString(
                "SELECT model->>'link' FROM email_outbox WHERE recipient = ? AND template = 'verify_email' "
                        + "ORDER BY created_at DESC LIMIT 1",
                email);
        assertThat(post("/api/v1/auth/verify-email", new JsonObject().put("token", link.replaceAll(".*[?&]token=", "")))
                        .statusCode())
                .isEqualTo(204);
        String first = post(
                        "/api/v1/auth/login",
                        new JsonObject().put("email", email).put("password", PASSWORD))
                .bodyAsJsonObject()
                .getString("refreshToken");
        assertThat(post("/api/v1/auth/refresh", new JsonObject().put("refreshToken", first))
                        .statusCode())
                .isEqualTo(200);
        assertThat(Sql.admin()
                        .update(
                                "UPDATE sessions SET refreshed_at = now() - interval '1 hour' "
                                        + "WHERE refreshed_at IS NOT NULL AND user_id = (SELECT id FROM users WHERE email = ?)",
                                email))
                .isEqualTo(1);
        return first;
    }

    // ------------------------------------------------------------------------------ Stripe webhooks

    private static HttpResponse<Buffer> stripe(String body, String signature) {
        return TestServer.await(server.request(POST, "/webhooks/stripe")
                .putHeader("Content-Type", "application/json")
                .putHeader("Stripe-Signature", signature)
                .sendBuffer(Buffer.buffer(body)));
    }

    private static double webhooks(String outcome) {
        return Scrape.of(server).value("tf_stripe_webhooks_total", Map.of("outcome", outcome));
    }

    @Test
    void stripeWebhookOutcomesAndTheUnprocessedBacklogArePublished() throws Exception {
        double received = webhooks("received");
        double stored = webhooks("stored");
        double duplicate = webhooks("duplicate");
        double rejected = webhooks("rejected");
        String body = FakeStripe.event(
                        "customer.created",
                        new JsonObject()
                                .put("id", "cus_" + UUID.randomUUID().toString().substring(0, 8)),
                        null,
                        Stripe.API_VERSION)
                .encode();
        String signature = FakeStripe.sign(STRIPE_SECRET, Instant.now().getEpochSecond(), body);
        assertThat(stripe(body, signature).statusCode()).isEqualTo(200);
        assertThat(stripe(body, signature).bodyAsJsonObject().getBoolean("duplicate"))
                .isTrue();
        assertThat(stripe(body, "t=1,v1=00").statusCode()).isEqualTo(400);
        assertThat(webhooks("received")).isEqualTo(received + 3);
        assertThat(webhooks("stored")).isEqualTo(stored + 1);
        assertThat(webhooks("duplicate")).isEqualTo(duplicate + 1);
        assertThat(webhooks("rejected")).isEqualTo(rejected + 1);
        assertThat(Scrape.of(server).has("tf_stripe_webhooks_total", Map.of("outcome", "failed")))
                .isTrue();

        // An event whose retries ran out an hour ago: the backlog gauges show it at the next sample.
        String stuck = "evt_metrics_" + UUID.randomUUID().toString().replace("-", "");
        execute(
                "INSERT INTO stripe_events (id, type, created, received_at, status, attempts, next_attempt_at, payload) "
                        + "VALUES (?, 'customer.updated', now(), now() - interval '1 hour', 'failed', 10, 'infinity', '{}')",
                stuck);
        try {
            eventually("the backlog gauges count the stuck event", () -> {
                Scrape m = Scrape.of(server);
                return m.value("tf_stripe_webhook_gave_up") >= 1
                        && m.value("tf_stripe_webhook_unprocessed") >= 1
                        && m.value("tf_stripe_webhook_oldest_unprocessed_seconds") >= 3500;
            });
        } finally {
            execute("DELETE FROM stripe_events WHERE id = ?", stuck);
        }
    }

    // ------------------------------------------------------------------------------------- email

    private static double emails(String outcome) {
        return Scrape.of(server).value("tf_email_messages_total", Map.of("outcome", outcome));
    }

    private static HttpResponse<Buffer> emailWebhook(String id, String body, String signature) {
        long now = Instant.now().getEpochSecond();
        return TestServer.await(server.request(POST, "/webhooks/email")
                .putHeader("Content-Type", "application/json")
                .putHeader("webhook-id", id)
                .putHeader("webhook-timestamp", Long.toString(now))
                .putHeader("webhook-signature", signature)
                .sendBuffer(Buffer.buffer(body)));
    }

    private static HttpResponse<Buffer> signedEmailEvent(String type, UUID message, JsonObject extra) {
        JsonObject data = new JsonObject()
                .put("email_id", "prov-" + UUID.randomUUID())
                .put("to", new JsonArray().add("x@customer.test"))
                .put("tags", new JsonObject().put("tf_message_id", message.toString()));
        extra.forEach(e -> data.put(e.getKey(), e.getValue()));
        String body = new JsonObject()
                .put("type", type)
                .put("created_at", Instant.now().toString())
                .put("data", data)
                .encode();
        String id = "msg_" + UUID.randomUUID();
        byte[] mac = new StandardWebhookVerifier(EMAIL_SECRET, Clock.systemUTC())
                .sign(id, Long.toString(Instant.now().getEpochSecond()), body.getBytes(StandardCharsets.UTF_8));
        return emailWebhook(id, body, "v1," + Base64.getEncoder().encodeToString(mac));
    }

    @Test
    void emailOutcomesTheOutboxBacklogAndTheFailureAlertArePublished() throws Exception {
        Map<String, Double> before = new HashMap<>();
        for (String outcome : List.of("queued", "sent", "failed", "suppressed", "bounced", "complained")) {
            before.put(outcome, emails(outcome));
        }
        TestUser user = users.create();
        TestEmails outbox = new TestEmails(server);
        UUID sent = outbox.enqueue(
                        user.accountId(),
                        "trial_ending",
                        "sent-" + UUID.randomUUID() + "@customer.test",
                        new JsonObject().put("trialEnd", "soon"),
                        "m:" + UUID.randomUUID())
                .orElseThrow();
        UUID unsendable = outbox.enqueue(
                        user.accountId(),
                        "no_such_template",
                        "x-" + UUID.randomUUID() + "@customer.test",
                        new JsonObject(),
                        "m:" + UUID.randomUUID())
                .orElseThrow();
        String blocked = "blocked-" + UUID.randomUUID() + "@customer.test";
        execute("INSERT INTO email_suppressions (address, reason, source) VALUES (?, 'complained', 'test')", blocked);
        UUID suppressed = outbox.enqueue(
                        user.accountId(),
                        "trial_ending",
                        blocked,
                        new JsonObject().put("trialEnd", "soon"),
                        "m:" + UUID.randomUUID())
                .orElseThrow();
        assertThat(outbox.awaitStatus(sent, "sent", 20)).isTrue();
        assertThat(outbox.awaitStatus(unsendable, "failed", 20)).isTrue();
        assertThat(outbox.awaitStatus(suppressed, "suppressed", 20)).isTrue();
        assertThat(signedEmailEvent(
                                "email.bounced",
                                sent,
                                new JsonObject().put("bounce", new JsonObject().put("type", "Transient")))
                        .statusCode())
                .isEqualTo(200);
        assertThat(signedEmailEvent("email.complained", sent, new JsonObject()).statusCode())
                .isEqualTo(200);

        assertThat(emails("queued")).isGreaterThanOrEqualTo(before.get("queued") + 3);
        assertThat(emails("sent")).isGreaterThanOrEqualTo(before.get("sent") + 1);
        assertThat(emails("failed")).isGreaterThanOrEqualTo(before.get("failed") + 1);
        assertThat(emails("suppressed")).isGreaterThanOrEqualTo(before.get("suppressed") + 1);
        assertThat(emails("bounced")).isGreaterThanOrEqualTo(before.get("bounced") + 1);
        assertThat(emails("complained")).isGreaterThanOrEqualTo(before.get("complained") + 1);

        // A message that has waited for an hour (its next attempt far off): depth and age show it.
        // Written behind the dispatcher's back, so it is not sent before the gauges can see it.
        UUID waiting = UUID.randomUUID();
        execute(
                "INSERT INTO email_outbox (id, account_id, template, recipient, locale, model, dedupe_key, created_at, next_attempt_at) "
                        + "VALUES (?, ?, 'trial_ending', ?, 'en-GB', '{}', ?, now() - interval '1 hour', now() + interval '1 day')",
                waiting,
                user.accountId(),
                "later-" + UUID.randomUUID() + "@customer.test",
                "m:" + UUID.randomUUID());
        try {
            eventually("the outbox gauges count the waiting message", () -> {
                Scrape m = Scrape.of(server);
                return m.value("tf_email_outbox_depth") >= 1 && m.value("tf_email_outbox_oldest_seconds") >= 3500;
            });
        } finally {
            execute("DELETE FROM email_outbox WHERE id = ?", waiting);
        }
        Scrape m = Scrape.of(server);
        assertThat(m.names()).contains("tradersflow_email_failure_rate", "tradersflow_email_alerting");
    }

    // ------------------------------------------------------------------------- platform and build

    @Test
    void saturationCertificateAuditReadinessAndBuildFiguresArePublished() {
        TestUser user = users.create();
        server.send(GET, "/api/v1/customers", user.token());
        eventually("readiness sampled as up", () -> Scrape.of(server).value("tf_ready") == 1);
        Scrape m = Scrape.of(server);
        assertThat(m.has("vertx_pool_in_use", Map.of("pool_type", "sql", "pool_name", "tf-app")))
                .isTrue();
        assertThat(m.has("vertx_pool_queue_pending", Map.of("pool_type", "sql", "pool_name", "tf-app")))
                .isTrue();
        assertThat(m.has("vertx_redis_processing_time_seconds_bucket", Map.of("le", "0.025")))
                .isTrue();
        assertThat(m.names()).contains("tradersflow_eventloop_delay_seconds_max", "tf_audit_seal_lag_seconds");
        assertThat(m.value("tf_audit_seal_lag_seconds")).isBetween(0.0, 30.0);
        // The development certificate is generated for a year or more.
        assertThat(m.value("tf_tls_certificate_expiry_seconds")).isGreaterThan(14 * 86_400.0);
        assertThat(m.value(
                        "tf_build_info", Map.of("version", BuildInfo.current().version())))
                .isEqualTo(1.0);
        assertThat(BuildInfo.current().version()).matches("\\d+\\.\\d+\\.\\d+.*");
    }

    @Test
    void readinessGaugeIsZeroWhileRedisIsDownAndOneWhenAllIsUp() {
        eventually(
                "the running server samples itself ready",
                () -> Scrape.of(server).value("tf_ready") == 1);
        try (TestServer down = TestServer.start(Map.of("TF_REDIS_URL", "redis://127.0.0.1:" + TestServer.freePort()))) {
            assertThat(TestServer.await(down.request(GET, "/health/ready").send())
                            .statusCode())
                    .isEqualTo(503);
            Scrape m = Scrape.of(down);
            assertThat(m.has("tf_ready", Map.of())).isTrue();
            assertThat(m.value("tf_ready")).isZero();
        }
    }

    // ------------------------------------------------------------------------------------ helpers

    static void eventually(String what, BooleanSupplier condition) {
        Eventually.holds(what, Duration.ofSeconds(30), Duration.ofMillis(250), condition);
    }

    static void execute(String sql, Object... args) {
        Sql.admin().update(sql, args);
    }

    static String queryString(String sql, Object... args) throws Exception {
        List<String> rows = Sql.admin().strings(sql, args);
        assertThat(rows).as(sql).isNotEmpty();
        return rows.get(0);
    }
}
