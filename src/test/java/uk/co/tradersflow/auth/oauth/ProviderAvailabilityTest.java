package uk.co.tradersflow.auth.oauth;

import static io.vertx.core.http.HttpMethod.POST;
import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.jwk.RSAKey;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.Sql;
import uk.co.tradersflow.support.TestServer;

/**
 * A server started while Google's keys cannot be fetched answers 503 until they can, then signs in;
 * a provider without client ids (Apple here) is 404 {@code provider_not_configured}.
 */
class ProviderAvailabilityTest {
    static final String CLIENT = "availability-client.test";
    static final RSAKey KEY = LocalJwks.rsa("k1");
    static TestServer server;
    static LocalJwks google;

    @RegisterExtension
    static final ServerExtension lifecycle = ServerExtension.with(() -> {
                google = LocalJwks.unreachable(KEY);
                return Map.of("TF_GOOGLE_CLIENT_IDS", CLIENT, "TF_GOOGLE_JWKS_URL", google.url());
            })
            .closing(() -> google)
            .then(s -> server = s);

    static HttpResponse<Buffer> post(String path, String token) {
        return TestServer.await(server.request(POST, path).sendJsonObject(new JsonObject().put("idToken", token)));
    }

    @Test
    void aColdStartWithoutTheProvidersKeysAnswers503UntilTheyCanBeFetched() throws Exception {
        String email = "cold-" + UUID.randomUUID() + "@example.test";
        String token = LocalJwks.sign(
                KEY,
                LocalJwks.google(CLIENT, UUID.randomUUID().toString(), email).build());
        HttpResponse<Buffer> cold = post("/api/v1/auth/oauth/google", token);
        assertThat(cold.statusCode()).as(cold.bodyAsString()).isEqualTo(503);
        assertThat(cold.bodyAsJsonObject().getString("code")).isEqualTo("provider_unavailable");
        assertThat(Sql.admin().count("SELECT count(*) FROM users WHERE email = ?", email))
                .isZero();

        // The provider comes back: the background retry (5 s after the first failure, doubling to a
        // minute) fetches the keys without any request asking.
        google.up();
        long deadline = System.nanoTime() + 75_000_000_000L;
        while (google.fetches() == 0 && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(google.fetches()).isGreaterThanOrEqualTo(1);
        HttpResponse<Buffer> warm = post("/api/v1/auth/oauth/google", token);
        assertThat(warm.statusCode()).as(warm.bodyAsString()).isEqualTo(200);
    }

    @Test
    void aProviderWithoutClientIdsIsNotConfigured() {
        HttpResponse<Buffer> apple = post("/api/v1/auth/oauth/apple", "whatever");
        assertThat(apple.statusCode()).isEqualTo(404);
        assertThat(apple.getHeader("Content-Type")).startsWith("application/problem+json");
        assertThat(apple.bodyAsJsonObject().getString("code")).isEqualTo("provider_not_configured");
    }
}
