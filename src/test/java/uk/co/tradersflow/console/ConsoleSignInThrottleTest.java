package uk.co.tradersflow.console;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.client.HttpResponse;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.TestServer;

/**
 * The console's sign-in form spends the same per-address budget as the API's sign-in: every
 * attempt costs an Argon2id hash, and an attacker using a fresh email address each time never
 * meets a lockout, so without it one address could keep the hashing pool busy for everyone.
 */
class ConsoleSignInThrottleTest {
    static TestServer server;

    @RegisterExtension
    static final ServerExtension lifecycle = ServerExtension.with(() -> Map.of(
                    "TF_LOGIN_IP_LIMIT_PER_MINUTE", "3",
                    // The test client stands for many clients behind a trusted proxy: X-Forwarded-For names each.
                    "TF_TRUSTED_PROXIES", "127.0.0.0/8,::1/128"))
            .then(s -> server = s);

    private static HttpResponse<Buffer> signIn(String ip) {
        return TestServer.await(server.request(HttpMethod.POST, "/admin/sign-in")
                .putHeader("X-Forwarded-For", ip)
                .putHeader("Origin", "https://localhost:" + server.config.http().httpsPort())
                .sendForm(MultiMap.caseInsensitiveMultiMap()
                        .add("email", "nobody-" + UUID.randomUUID() + "@example.test")
                        .add("password", "not the password")));
    }

    @Test
    void signInAttemptsWithFreshAddressesFromOneClientAreCutOffByItsBudget() {
        String ip = "203.0.113.41";
        for (int i = 0; i < 3; i++) {
            HttpResponse<Buffer> refused = signIn(ip);
            assertThat(refused.statusCode()).as(refused.bodyAsString()).isEqualTo(401);
            assertThat(refused.getHeader("RateLimit-Limit")).isEqualTo("3");
        }
        HttpResponse<Buffer> over = signIn(ip);
        assertThat(over.statusCode()).as(over.bodyAsString()).isEqualTo(429);
        // The contract's rule for every rate-limited answer, a page as much as a problem.
        assertThat(over.getHeader("Retry-After")).isNotBlank();
        assertThat(over.getHeader("RateLimit-Limit")).isEqualTo("3");
        assertThat(over.getHeader("RateLimit-Remaining")).isEqualTo("0");
        assertThat(over.getHeader("RateLimit-Reset")).isNotBlank();
        assertThat(over.getHeader("Content-Type")).startsWith("text/html");

        // Another client keeps its own budget.
        assertThat(signIn("203.0.113.42").statusCode()).isEqualTo(401);
    }
}
