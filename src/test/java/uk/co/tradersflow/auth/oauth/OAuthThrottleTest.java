package uk.co.tradersflow.auth.oauth;

import static io.vertx.core.http.HttpMethod.POST;
import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.jwk.RSAKey;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.Sql;
import uk.co.tradersflow.support.TestServer;

/**
 * Rate limits and lockout apply to Google and Apple sign-in as to passwords: per client address
 * (one budget for every way of signing in), and per subject (the user's one count, once the subject
 * is linked; the subject's own before), with a known device judged apart.
 */
class OAuthThrottleTest {
    static final String CLIENT = "throttle-client.test";
    static final RSAKey KEY = LocalJwks.rsa("t1");
    static final RSAKey IMPOSTOR = LocalJwks.rsa("t1");
    static final AtomicInteger ADDRESSES = new AtomicInteger(1);
    static TestServer server;
    static LocalJwks google;

    @RegisterExtension
    static final ServerExtension lifecycle = ServerExtension.with(() -> {
                google = LocalJwks.start(KEY);
                return Map.of(
                        "TF_GOOGLE_CLIENT_IDS", CLIENT,
                        "TF_GOOGLE_JWKS_URL", google.url(),
                        "TF_SMTP_PORT", Integer.toString(TestServer.freePort()),
                        "TF_LOGIN_MAX_FAILURES", "3",
                        "TF_LOGIN_LOCKOUT_SECONDS", "60",
                        "TF_LOGIN_IP_LIMIT_PER_MINUTE", "5",
                        // The test client stands for many clients behind a trusted proxy: X-Forwarded-For names each.
                        "TF_TRUSTED_PROXIES", "127.0.0.0/8,::1/128");
            })
            .closing(() -> google)
            .then(s -> server = s);

    /** A client address of its own for each call, unless one is given. */
    static String address() {
        return "198.51.100." + ADDRESSES.getAndIncrement();
    }

    static HttpResponse<Buffer> post(String ip, String path, JsonObject body) {
        return TestServer.await(
                server.request(POST, path).putHeader("X-Forwarded-For", ip).sendJsonObject(body));
    }

    static String token(RSAKey key, String subject, String email) {
        return LocalJwks.sign(key, LocalJwks.google(CLIENT, subject, email).build());
    }

    static HttpResponse<Buffer> google(String ip, String token) {
        return post(ip, "/api/v1/auth/oauth/google", new JsonObject().put("idToken", token));
    }

    @Test
    void signInAttemptsFromOneAddressShareOneBudgetWhateverTheMethod() {
        String ip = "203.0.113.7";
        for (int i = 0; i < 4; i++) {
            HttpResponse<Buffer> ok =
                    google(ip, token(KEY, UUID.randomUUID().toString(), "ip-" + UUID.randomUUID() + "@example.test"));
            assertThat(ok.statusCode()).as(ok.bodyAsString()).isEqualTo(200);
            assertThat(ok.getHeader("RateLimit-Limit")).isEqualTo("5");
        }
        assertThat(post(
                                ip,
                                "/api/v1/auth/login",
                                new JsonObject().put("email", "x@example.test").put("password", "wrong password 1"))
                        .statusCode())
                .isEqualTo(401);
        HttpResponse<Buffer> limited =
                google(ip, token(KEY, UUID.randomUUID().toString(), "ip-" + UUID.randomUUID() + "@example.test"));
        assertThat(limited.statusCode()).isEqualTo(429);
        assertThat(limited.bodyAsJsonObject().getString("code")).isEqualTo("too_many_attempts");
        assertThat(limited.getHeader("Retry-After")).isNotNull();
    }

    @Test
    void refusedTokensForALinkedSubjectLockItsUserOutButNotTheirKnownDevice() {
        String subject = UUID.randomUUID().toString();
        String email = "locked-" + UUID.randomUUID() + "@example.test";
        HttpResponse<Buffer> first = google(address(), token(KEY, subject, email));
        assertThat(first.statusCode()).as(first.bodyAsString()).isEqualTo(200);
        String deviceToken = first.bodyAsJsonObject().getString("deviceToken");
        UUID userId = UUID.fromString(Sql.admin().string("SELECT id::text FROM users WHERE email = ?", email));

        for (int i = 0; i < 3; i++) {
            HttpResponse<Buffer> forged = google(address(), token(IMPOSTOR, subject, email));
            assertThat(forged.statusCode()).isEqualTo(401);
            assertThat(forged.bodyAsJsonObject().getString("code")).isEqualTo("invalid_id_token");
        }
        HttpResponse<Buffer> locked = google(address(), token(KEY, subject, email));
        assertThat(locked.statusCode()).as("even a valid token, from elsewhere").isEqualTo(429);
        assertThat(locked.bodyAsJsonObject().getString("code")).isEqualTo("too_many_attempts");
        assertThat(post(
                                address(),
                                "/api/v1/auth/login",
                                new JsonObject().put("email", email).put("password", "any password at all"))
                        .statusCode())
                .as("one lockout per user, whichever way in")
                .isEqualTo(429);
        assertThat(Sql.admin()
                        .count("SELECT count(*) FROM audit_log WHERE actor_id = ? AND action = 'login.locked'", userId))
                .isEqualTo(1);
        assertThat(Sql.admin()
                        .count(
                                "SELECT count(*) FROM email_outbox WHERE recipient = ? AND template = 'account_locked'",
                                email))
                .isEqualTo(1);

        HttpResponse<Buffer> device = post(
                address(),
                "/api/v1/auth/oauth/google",
                new JsonObject().put("idToken", token(KEY, subject, email)).put("deviceToken", deviceToken));
        assertThat(device.statusCode()).as("the device it signed in on before").isEqualTo(200);
    }

    @Test
    void refusedTokensForAnUnlinkedSubjectLockThatSubject() {
        String subject = UUID.randomUUID().toString();
        String email = "new-" + UUID.randomUUID() + "@example.test";
        for (int i = 0; i < 3; i++) {
            assertThat(google(address(), token(IMPOSTOR, subject, email)).statusCode())
                    .isEqualTo(401);
        }
        assertThat(google(address(), token(KEY, subject, email)).statusCode()).isEqualTo(429);
        assertThat(google(address(), token(KEY, UUID.randomUUID().toString(), "other-" + email))
                        .statusCode())
                .as("another subject is not locked")
                .isEqualTo(200);
    }
}
