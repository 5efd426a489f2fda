package uk.co.tradersflow.ratelimit;

import static io.vertx.core.http.HttpMethod.GET;
import static io.vertx.core.http.HttpMethod.POST;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.Test;
import uk.co.tradersflow.support.Scrape;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

class ApiRateLimitTest {

    @Test
    void theApiBudgetIsPerUserWithHeadersAnd429RetryAfterWhenSpent() {
        try (TestServer server = TestServer.start(Map.of("TF_API_RATE_PER_SECOND", "1", "TF_API_BURST", "3"))) {
            TestUsers users = new TestUsers(server);
            TestUser a = users.create();
            TestUser b = users.create();
            HttpResponse<Buffer> first = server.send(GET, "/api/v1/customers", a.token());
            assertThat(first.statusCode()).isEqualTo(200);
            assertThat(first.getHeader("RateLimit-Limit")).isEqualTo("3");
            assertThat(first.getHeader("RateLimit-Remaining")).isEqualTo("2");
            assertThat(Long.parseLong(first.getHeader("RateLimit-Reset"))).isBetween(1L, 3L);
            server.send(GET, "/api/v1/customers", a.token());
            server.send(GET, "/api/v1/customers", a.token());
            HttpResponse<Buffer> limited = server.send(GET, "/api/v1/customers", a.token());
            assertThat(limited.statusCode()).isEqualTo(429);
            assertThat(limited.bodyAsJsonObject().getString("code")).isEqualTo("rate_limited");
            assertThat(limited.getHeader("Retry-After")).isEqualTo("1");
            assertThat(limited.getHeader("RateLimit-Remaining")).isEqualTo("0");
            assertThat(server.send(GET, "/api/v1/customers", b.token()).statusCode())
                    .as("another user's budget is untouched")
                    .isEqualTo(200);
        }
    }

    @Test
    void withRedisDownSignInFailsClosedWhileTheApiKeepsWorkingOnLocalLimits() {
        try (TestServer server = TestServer.start(Map.of(
                "TF_REDIS_URL",
                "redis://127.0.0.1:" + TestServer.freePort(),
                "TF_API_RATE_PER_SECOND",
                "1",
                "TF_API_BURST",
                "2"))) {
            TestUser a = new TestUsers(server).create();
            HttpResponse<Buffer> login = TestServer.await(server.request(POST, "/api/v1/auth/login")
                    .sendJsonObject(new JsonObject().put("email", a.email()).put("password", "whatever it may be")));
            assertThat(login.statusCode()).isEqualTo(503);
            assertThat(server.send(GET, "/api/v1/customers", a.token()).statusCode())
                    .isEqualTo(200);
            assertThat(server.send(GET, "/api/v1/customers", a.token()).statusCode())
                    .isEqualTo(200);
            assertThat(server.send(GET, "/api/v1/customers", a.token()).statusCode())
                    .as("the local budget still limits")
                    .isEqualTo(429);
            HttpResponse<Buffer> ready =
                    TestServer.await(server.plainClient.get("/health/ready").send());
            assertThat(ready.statusCode()).isEqualTo(503);
            assertThat(ready.bodyAsJsonObject()
                            .getJsonObject("checks")
                            .getJsonObject("redis")
                            .getString("status"))
                    .isEqualTo("DOWN");
        }
    }

    /**
     * A user who asks often spends units leased from Redis a few at a time: far fewer script calls
     * than requests, with the headers still counting the shared budget down one by one.
     */
    @Test
    void aBusyUserTakesUnitsFromRedisAFewAtATime() {
        try (TestServer server = TestServer.start(Map.of("TF_API_RATE_PER_SECOND", "1", "TF_API_BURST", "100"))) {
            TestUser a = new TestUsers(server).create();
            long before = scriptCalls(server);
            for (int i = 1; i <= 30; i++) {
                HttpResponse<Buffer> r = server.send(GET, "/api/v1/customers", a.token());
                assertThat(r.statusCode()).isEqualTo(200);
                // One unit a second refills; thirty requests take well under that many seconds here.
                assertThat(Integer.parseInt(r.getHeader("RateLimit-Remaining")))
                        .as("request %d", i)
                        .isBetween(100 - i, 102 - i);
            }
            assertThat(scriptCalls(server) - before)
                    .as("calls to Redis for 30 requests")
                    .isBetween(1L, 10L);
        }
    }

    /** Units are taken from the shared bucket before an instance spends them: two instances together stay within the burst. */
    @Test
    void instancesTogetherNeverLetAUserThroughMoreOftenThanTheLimit() {
        try (TestServer a = TestServer.start(Map.of("TF_API_RATE_PER_SECOND", "1", "TF_API_BURST", "40"));
                TestServer b = TestServer.start(Map.of(
                        "TF_API_RATE_PER_SECOND",
                        "1",
                        "TF_API_BURST",
                        "40",
                        "TF_DEV_DATA_DIR",
                        a.config.ops().devDataDir().toString()))) {
            TestUser u = new TestUsers(a).create();
            long started = System.nanoTime();
            int admitted = 0;
            for (int i = 0; i < 60; i++) {
                HttpResponse<Buffer> r = (i % 2 == 0 ? a : b).send(GET, "/api/v1/customers", u.token());
                if (r.statusCode() == 200) {
                    admitted++;
                } else {
                    // Refused with leases in play as without: the contract's 429, Retry-After and headers.
                    assertThat(r.statusCode()).isEqualTo(429);
                    assertThat(r.bodyAsJsonObject().getString("code")).isEqualTo("rate_limited");
                    assertThat(Long.parseLong(r.getHeader("Retry-After"))).isPositive();
                    assertThat(r.getHeader("RateLimit-Remaining")).isEqualTo("0");
                }
            }
            long refilled = (System.nanoTime() - started) / 1_000_000_000L + 1;
            // At most what the bucket held and refilled; at least that less what each instance may
            // hold unspent (a lease and a half: a tenth of the burst, and a top-up of as much again).
            assertThat(admitted).isBetween(40 - 2 * 6, (int) (40 + refilled));
        }
    }

    /**
     * Redis commands this server has sent, from its own client's metrics: INFO's counters are the
     * whole Redis server's, which any other process on it (a load test, another suite) adds to.
     * The lease script is nearly all of them here.
     */
    private static long scriptCalls(TestServer server) {
        return Scrape.of(server).series("vertx_redis_processing_time_seconds_count").stream()
                .mapToLong(l -> (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                .sum();
    }
}
