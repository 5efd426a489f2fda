package uk.co.tradersflow.health;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.support.LogCapture;
import uk.co.tradersflow.support.Scrape;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/** Readiness names what is down, start-up survives it, and metrics are for operators only. */
class HealthRoutesTest {
    static final String METRICS_TOKEN = "metrics-token-0123456789abcdef";
    static TestServer server;

    @RegisterExtension
    static final ServerExtension lifecycle =
            ServerExtension.with(Map.of("TF_METRICS_TOKEN", METRICS_TOKEN)).then(s -> server = s);

    @Test
    void readyIsUpWithBothChecksWhenPostgresAndRedisAnswer() {
        HttpResponse<Buffer> r =
                TestServer.await(server.request(HttpMethod.GET, "/health/ready").send());
        assertThat(r.statusCode()).isEqualTo(200);
        JsonObject body = r.bodyAsJsonObject();
        assertThat(body.getString("status")).isEqualTo("UP");
        assertThat(body.getJsonObject("checks").getJsonObject("db").getString("status"))
                .isEqualTo("UP");
        assertThat(body.getJsonObject("checks").getJsonObject("redis").getString("status"))
                .isEqualTo("UP");
        assertThat(TestServer.await(
                                server.request(HttpMethod.GET, "/health/live").send())
                        .statusCode())
                .isEqualTo(200);
    }

    @Test
    void redisUnreachableAtBootStillStartsAndReadinessIs503NamingRedis() {
        try (TestServer down = TestServer.start(Map.of("TF_REDIS_URL", "redis://127.0.0.1:" + TestServer.freePort()))) {
            HttpResponse<Buffer> r = TestServer.await(
                    down.request(HttpMethod.GET, "/health/ready").send());
            assertThat(r.statusCode()).isEqualTo(503);
            JsonObject checks = r.bodyAsJsonObject().getJsonObject("checks");
            assertThat(r.bodyAsJsonObject().getString("status")).isEqualTo("DOWN");
            assertThat(checks.getJsonObject("redis").getString("status")).isEqualTo("DOWN");
            assertThat(checks.getJsonObject("db").getString("status")).isEqualTo("UP");
            assertThat(TestServer.await(down.plainClient.get("/health/ready").send())
                            .statusCode())
                    .isEqualTo(503);
            assertThat(TestServer.await(
                                    down.request(HttpMethod.GET, "/health/live").send())
                            .statusCode())
                    .isEqualTo(200);
            // Authentication needs only Postgres: the API keeps working while Redis is away.
            TestUser user = new TestUsers(down).create();
            assertThat(down.send(HttpMethod.GET, "/api/v1/customers", user.token())
                            .statusCode())
                    .isEqualTo(200);
        }
    }

    @Test
    void postgresUnreachableAtBootStillStartsReadinessNamesDbAndApiAnswers503() {
        TestUser user = new TestUsers(server).create();
        // The same keys as the running server, so the token verifies and the session lookup is what fails.
        Map<String, String> settings = server.twinWithoutDatabase();
        try (LogCapture logs = new LogCapture();
                TestServer down = TestServer.start(settings)) {
            HttpResponse<Buffer> r = TestServer.await(
                    down.request(HttpMethod.GET, "/health/ready").send());
            assertThat(r.statusCode()).isEqualTo(503);
            JsonObject checks = r.bodyAsJsonObject().getJsonObject("checks");
            assertThat(checks.getJsonObject("db").getString("status")).isEqualTo("DOWN");
            assertThat(checks.getJsonObject("redis").getString("status")).isEqualTo("UP");

            HttpResponse<Buffer> api = down.send(HttpMethod.GET, "/api/v1/customers", user.token());
            assertThat(api.statusCode()).isEqualTo(503);
            assertThat(api.getHeader("Content-Type")).startsWith("application/problem+json");
            assertThat(api.bodyAsJsonObject().getString("code")).isEqualTo("service_unavailable");
            assertThat(api.bodyAsString()).doesNotContain("127.0.0.1", "Connection refused", "Exception");
            assertThat(logs.text()).contains(api.getHeader("X-Request-Id"));
        }
    }

    /**
     * The background jobs log in as tf_worker on their own connections. Postgres refusing that
     * login is a setting to fix: start-up stops, naming it. Not reaching Postgres is not: the
     * server starts, and readiness says db until the worker can connect.
     */
    @Test
    void theWorkersLoginIsCheckedAtStartAndByReadiness() {
        Map<String, String> refused = Map.of(
                "TF_DB_WORKER_URL",
                "postgresql://no_such_worker_role@" + server.env.pgHost + ":" + server.env.pgPort + "/"
                        + server.env.database,
                "TF_DEV_DATA_DIR",
                server.config.ops().devDataDir().toString(),
                "TF_MIGRATE",
                "false");
        assertThatThrownBy(() -> TestServer.start(refused).close())
                .hasMessageContaining("TF_DB_WORKER_URL")
                .hasMessageContaining("tf_worker");

        Map<String, String> unreachable = Map.of(
                "TF_DB_WORKER_URL",
                "postgresql://tf_worker@127.0.0.1:" + TestServer.freePort() + "/" + server.env.database,
                "TF_DEV_DATA_DIR",
                server.config.ops().devDataDir().toString(),
                "TF_MIGRATE",
                "false");
        try (TestServer workerDown = TestServer.start(unreachable)) {
            HttpResponse<Buffer> r = TestServer.await(
                    workerDown.request(HttpMethod.GET, "/health/ready").send());
            assertThat(uk.co.tradersflow.support.Readiness.dbDown(r))
                    .as(r.bodyAsString())
                    .isTrue();
        }
        assertThat(TestServer.await(
                                server.request(HttpMethod.GET, "/health/ready").send())
                        .statusCode())
                .isEqualTo(200);
    }

    @Test
    void metricsFromLoopbackArePrometheusTextWithRouteStatusHistogramsConnectionsPoolAndEventLoopFigures() {
        // Traffic first, so the request meters exist.
        TestServer.await(server.request(HttpMethod.GET, "/health/live").send());
        TestServer.await(server.request(HttpMethod.GET, "/no/such/route").send());
        HttpResponse<Buffer> r =
                TestServer.await(server.request(HttpMethod.GET, "/metrics").send());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.getHeader("Content-Type")).startsWith("text/plain");
        String text = r.bodyAsString();
        assertThat(text).contains("# TYPE tf_http_server_requests_seconds histogram");
        Scrape scrape = new Scrape(text);
        assertThat(scrape.has(
                        "tf_http_server_requests_seconds_bucket", Map.of("route", "/health/live", "status", "2xx")))
                .isTrue();
        assertThat(scrape.has("tf_http_server_requests_seconds_count", Map.of("route", "unmatched", "status", "4xx")))
                .isTrue();
        // Each request is timed once, by HttpMetrics: Vert.x's own HTTP server metrics are off.
        assertThat(text).doesNotContain("vertx_http_server_");
        // This test's own connection is open while it reads the scrape.
        assertThat(scrape.value("tf_http_server_connections")).isGreaterThanOrEqualTo(1.0);
        assertThat(text).contains("vertx_pool_");
        assertThat(text).containsPattern("vertx_pool_[a-z_]+\\{[^}]*pool_name=\"tf-app\"");
        assertThat(text).contains("jvm_threads_");
        assertThat(text)
                .containsPattern("tradersflow_eventloop_delay_seconds_max\\{loop=\"vert\\.x-eventloop-thread-\\d+\"");
        assertThat(text).containsPattern("vertx_pool_[a-z_]+\\{[^}]*pool_type=\"worker\"");
    }

    @Test
    void metricsThroughAProxyNeedTheToken() {
        HttpResponse<Buffer> forwarded = TestServer.await(server.request(HttpMethod.GET, "/metrics")
                .putHeader("X-Forwarded-For", "203.0.113.9")
                .send());
        assertThat(forwarded.statusCode()).isEqualTo(403);
        assertThat(forwarded.getHeader("Content-Type")).startsWith("application/problem+json");

        // A proxy on this very host may say so other ways, or not at all but for these.
        for (String header : new String[] {
            "Forwarded",
            "X-Real-IP",
            "X-Forwarded-Host",
            "X-Forwarded-Proto",
            "Via",
            "CF-Connecting-IP",
            "True-Client-IP",
            "Fastly-Client-IP",
            "X-Client-IP",
            "X-Cluster-Client-IP"
        }) {
            assertThat(TestServer.await(server.request(HttpMethod.GET, "/metrics")
                                    .putHeader(header, "for=203.0.113.9")
                                    .send())
                            .statusCode())
                    .as(header)
                    .isEqualTo(403);
        }

        HttpResponse<Buffer> wrong = TestServer.await(server.request(HttpMethod.GET, "/metrics")
                .putHeader("X-Forwarded-For", "203.0.113.9")
                .bearerTokenAuthentication("not-the-token")
                .send());
        assertThat(wrong.statusCode()).isEqualTo(403);

        HttpResponse<Buffer> ok = TestServer.await(server.request(HttpMethod.GET, "/metrics")
                .putHeader("X-Forwarded-For", "203.0.113.9")
                .bearerTokenAuthentication(METRICS_TOKEN)
                .send());
        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(ok.bodyAsString()).contains("tf_http_server_requests_seconds_count");
    }

    @Test
    void securityTxtExpiryMovesWithTimeSoALongRunningServerNeverServesAnExpiredFile() {
        HealthRoutes routes = new HealthRoutes(
                null,
                null,
                null,
                java.util.Optional.empty(),
                java.util.Optional.empty(),
                "https://x.test/",
                java.util.Map.of());
        java.time.Instant later = java.time.Instant.now().plus(java.time.Duration.ofDays(400));
        String text = routes.securityTxt(later);
        java.time.Instant expires = java.time.Instant.parse(text.lines()
                .filter(l -> l.startsWith("Expires: "))
                .findFirst()
                .orElseThrow()
                .substring(9));
        assertThat(expires).isAfter(later).isBefore(later.plus(java.time.Duration.ofDays(365)));
        assertThat(text).contains("Canonical: https://x.test/.well-known/security.txt");
    }
}
