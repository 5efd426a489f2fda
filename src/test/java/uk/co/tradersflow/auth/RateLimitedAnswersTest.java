package uk.co.tradersflow.auth;

import static io.vertx.core.http.HttpMethod.POST;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.TestEnvironment;
import uk.co.tradersflow.support.TestServer;

/**
 * The contract's conventions: every rate-limited answer carries {@code RateLimit-Limit},
 * {@code RateLimit-Remaining} and {@code RateLimit-Reset}, and a 429 also {@code Retry-After}.
 * Each 429 of the sign-in routes is here; the API's per-user limit is in {@code ApiRateLimitTest}
 * and the email-change cap in {@link MailFloodTest}.
 */
class RateLimitedAnswersTest {
    static final int IP_LIMIT = 3;
    static final int MAX_FAILURES = 2;

    // Redis keys of its own: the limits here are tiny, and the run's shared prefix would carry
    // 127.0.0.1's spent sign-in budget into whichever test class runs next in the same minute.
    @RegisterExtension
    static final ServerExtension lifecycle = ServerExtension.with(Map.of(
                    "TF_REDIS_KEY_PREFIX",
                    TestEnvironment.get().redisPrefix + "tiny-limits:",
                    "TF_SMTP_PORT",
                    Integer.toString(TestServer.freePort()),
                    "TF_TRUSTED_PROXIES",
                    "127.0.0.0/8,::1/128",
                    "TF_LOGIN_IP_LIMIT_PER_MINUTE",
                    Integer.toString(IP_LIMIT),
                    "TF_LOGIN_MAX_FAILURES",
                    Integer.toString(MAX_FAILURES),
                    "TF_LOGIN_LOCKOUT_SECONDS",
                    "600"))
            .then(s -> SignInFlowTest.server = s);

    private static HttpResponse<Buffer> postFrom(String ip, String path, JsonObject body) {
        return TestServer.await(SignInFlowTest.server()
                .request(POST, path)
                .putHeader("X-Forwarded-For", ip)
                .sendJsonObject(body));
    }

    static void assertRateLimited(HttpResponse<Buffer> r, int limit) {
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(429);
        assertThat(r.bodyAsJsonObject().getString("code")).isEqualTo("too_many_attempts");
        assertThat(r.getHeader("RateLimit-Limit")).isEqualTo(Integer.toString(limit));
        assertThat(r.getHeader("RateLimit-Remaining")).isEqualTo("0");
        long retryAfter = Long.parseLong(r.getHeader("Retry-After"));
        assertThat(retryAfter).isPositive();
        assertThat(Long.parseLong(r.getHeader("RateLimit-Reset"))).isGreaterThanOrEqualTo(retryAfter);
    }

    /**
     * Each route from a client address of its own, so one route's count does not touch another's.
     * The answers within the limit carry the headers too, counting down.
     */
    private static void exhaustThenExpect429(String path, Supplier<JsonObject> body) {
        String ip = "198.51.100." + Math.floorMod(path.hashCode(), 200);
        for (int i = 0; i < IP_LIMIT; i++) {
            HttpResponse<Buffer> r = postFrom(ip, path, body.get());
            assertThat(r.statusCode()).as(path + " within the limit").isNotEqualTo(429);
            assertThat(r.getHeader("RateLimit-Limit"))
                    .as(path + " RateLimit-Limit")
                    .isEqualTo(Integer.toString(IP_LIMIT));
            assertThat(r.getHeader("RateLimit-Remaining"))
                    .as(path + " RateLimit-Remaining")
                    .isEqualTo(Integer.toString(IP_LIMIT - 1 - i));
            assertThat(Long.parseLong(r.getHeader("RateLimit-Reset")))
                    .as(path + " RateLimit-Reset")
                    .isBetween(1L, 60L);
            assertThat(r.getHeader("Retry-After"))
                    .as(path + " no Retry-After before the 429")
                    .isNull();
        }
        assertRateLimited(postFrom(ip, path, body.get()), IP_LIMIT);
    }

    @Test
    void thePerIpSignInLimitsAnswerWithTheRateLimitHeadersAndTheirAnswersWithinTheLimitToo() {
        // A new address each time, so no per-address count gets there first.
        exhaustThenExpect429(
                "/api/v1/auth/login",
                () -> new JsonObject().put("email", SignInFlowTest.email()).put("password", "not it"));
        exhaustThenExpect429("/api/v1/auth/signup", () -> new JsonObject()
                .put("email", SignInFlowTest.email())
                .put("password", SignInFlowTest.PASSWORD)
                .put("businessName", "Sparks Ltd"));
        exhaustThenExpect429(
                "/api/v1/auth/password-reset/request", () -> new JsonObject().put("email", SignInFlowTest.email()));
    }

    @Test
    void aLockedAccountsSignInAnswersWithTheRateLimitHeaders() throws Exception {
        String email = SignInFlowTest.email();
        SignInFlowTest.signedUpAndIn(email);
        for (int i = 0; i < MAX_FAILURES; i++) {
            assertThat(postFrom(
                                    "192.0.2." + (10 + i),
                                    "/api/v1/auth/login",
                                    new JsonObject().put("email", email).put("password", "wrong guess " + i))
                            .statusCode())
                    .isEqualTo(401);
        }
        HttpResponse<Buffer> locked = postFrom(
                "192.0.2.50",
                "/api/v1/auth/login",
                new JsonObject().put("email", email).put("password", SignInFlowTest.PASSWORD));
        assertRateLimited(locked, MAX_FAILURES);
        assertThat(Long.parseLong(locked.getHeader("Retry-After"))).isBetween(590L, 600L);
    }

    @Test
    void aSessionLockedOutOfItsPasswordChecksAnswersWithTheRateLimitHeaders() throws Exception {
        String token = SignInFlowTest.signedUpAndIn(SignInFlowTest.email()).getString("accessToken");
        for (int i = 0; i < MAX_FAILURES; i++) {
            assertThat(SignInFlowTest.changePassword(token, "guess " + i, "a brand new passphrase")
                            .statusCode())
                    .isEqualTo(401);
        }
        assertRateLimited(
                SignInFlowTest.changePassword(token, SignInFlowTest.PASSWORD, "a brand new passphrase"), MAX_FAILURES);
    }
}
