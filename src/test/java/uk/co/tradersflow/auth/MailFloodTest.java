package uk.co.tradersflow.auth;

import static io.vertx.core.http.HttpMethod.POST;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.Sql;
import uk.co.tradersflow.support.TestServer;

/**
 * Mails a stranger can make the server send to one address are capped per address or per user,
 * not per client IP, and the count lives in Redis, so two instances share it.
 */
class MailFloodTest {
    static final String PASSWORD = SignInFlowTest.PASSWORD;
    static TestServer other;

    static Map<String, String> settings() {
        // The test client stands for many clients behind a trusted proxy: X-Forwarded-For names each.
        return Map.of(
                "TF_SMTP_PORT", Integer.toString(TestServer.freePort()), "TF_TRUSTED_PROXIES", "127.0.0.0/8,::1/128");
    }

    @RegisterExtension
    @Order(1)
    static final ServerExtension lifecycle = ServerExtension.with(settings()).then(s -> SignInFlowTest.server = s);

    /** A second instance of the same deployment: same database, Redis prefix and (development) keys. */
    @RegisterExtension
    @Order(2)
    static final ServerExtension second = ServerExtension.with(() -> {
                Map<String, String> same = new java.util.HashMap<>(settings());
                same.put(
                        "TF_DEV_DATA_DIR",
                        SignInFlowTest.server.config.ops().devDataDir().toString());
                return same;
            })
            .then(s -> other = s);

    private static HttpResponse<Buffer> resetFrom(TestServer instance, String ip, String email) {
        return TestServer.await(instance.request(POST, "/api/v1/auth/password-reset/request")
                .putHeader("X-Forwarded-For", ip)
                .sendJsonObject(new JsonObject().put("email", email)));
    }

    private static long count(String sql) throws Exception {
        return Sql.admin().count(sql);
    }

    @Test
    void atMostThreeResetMailsAnHourGoToOneAddressWhoeverAsksFromWhereverOnAnyInstance() throws Exception {
        String email = SignInFlowTest.email();
        SignInFlowTest.signedUpAndIn(email);
        for (int i = 0; i < 6; i++) {
            HttpResponse<Buffer> r = resetFrom(
                    i % 2 == 0 ? SignInFlowTest.server() : other, "203.0.113." + (10 + i), email.toUpperCase());
            assertThat(r.statusCode()).as("every request answers alike").isEqualTo(202);
        }
        SignInFlowTest.awaitQueued(email, "password_reset", 3);
        Thread.sleep(1_000); // requests are answered before their mail is queued: give the rest time to (not) queue
        assertThat(SignInFlowTest.queued(email, "password_reset")).isEqualTo(3);
        assertThat(count(
                        "SELECT count(*) FROM auth_tokens t JOIN users u ON u.id = t.user_id WHERE t.purpose = 'password_reset' "
                                + "AND u.email = '" + email + "'"))
                .as("live reset links")
                .isEqualTo(3);
        assertThat(resetFrom(SignInFlowTest.server(), "198.51.100.7", SignInFlowTest.email())
                        .statusCode())
                .as("an unknown address answers the same")
                .isEqualTo(202);
        String another = SignInFlowTest.email();
        SignInFlowTest.signedUpAndIn(another);
        assertThat(resetFrom(other, "198.51.100.8", another).statusCode()).isEqualTo(202);
        SignInFlowTest.awaitQueued(another, "password_reset", 1);
        assertThat(SignInFlowTest.queued(another, "password_reset"))
                .as("another address has its own count")
                .isEqualTo(1);
    }

    @Test
    void atMostThreeEmailChangeRequestsAnHourPerUserThenA429WithTheRateLimitHeaders() throws Exception {
        String email = SignInFlowTest.email();
        String token = SignInFlowTest.signedUpAndIn(email).getString("accessToken");
        for (int i = 0; i < 3; i++) {
            TestServer instance = i == 1 ? other : SignInFlowTest.server();
            HttpResponse<Buffer> r = instance.send(
                    POST,
                    "/api/v1/auth/email",
                    token,
                    new JsonObject()
                            .put("currentPassword", PASSWORD)
                            .put("newEmail", "third-party-" + i + "-" + email));
            assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(202);
            assertThat(r.getHeader("RateLimit-Limit")).isEqualTo("3");
            assertThat(r.getHeader("RateLimit-Remaining")).isEqualTo(Integer.toString(2 - i));
        }
        HttpResponse<Buffer> refused = other.send(
                POST,
                "/api/v1/auth/email",
                token,
                new JsonObject().put("currentPassword", PASSWORD).put("newEmail", "third-party-3-" + email));
        assertThat(refused.statusCode()).as(refused.bodyAsString()).isEqualTo(429);
        assertThat(refused.getHeader("Content-Type")).startsWith("application/problem+json");
        assertThat(refused.bodyAsJsonObject().getString("code")).isEqualTo("rate_limited");
        assertThat(refused.getHeader("RateLimit-Limit")).isEqualTo("3");
        assertThat(refused.getHeader("RateLimit-Remaining")).isEqualTo("0");
        long retryAfter = Long.parseLong(refused.getHeader("Retry-After"));
        assertThat(retryAfter).isBetween(3_500L, 3_600L);
        assertThat(Long.parseLong(refused.getHeader("RateLimit-Reset"))).isEqualTo(retryAfter);
        assertThat(SignInFlowTest.queued("third-party-3-" + email, "email_change_confirm"))
                .as("nothing mailed")
                .isZero();
        assertThat(count(
                        "SELECT count(*) FROM email_outbox WHERE template = 'email_change_confirm' AND recipient LIKE 'third-party-%-"
                                + email + "'"))
                .isEqualTo(3);
    }
}
