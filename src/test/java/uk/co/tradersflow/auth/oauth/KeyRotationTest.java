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
import uk.co.tradersflow.support.TestServer;

/**
 * Google rotates its keys: a new key id is published (and used) and the old one withdrawn. The
 * server fetches the new set when a token names a key it does not hold, refuses tokens of the
 * withdrawn key once it is gone, and keeps signing in with the keys it holds when Google cannot be
 * reached.
 */
class KeyRotationTest {
    static final String CLIENT = "rotation-client.test";
    static final RSAKey OLD = LocalJwks.rsa("2026-old");
    static final RSAKey NEW = LocalJwks.rsa("2026-new");
    static TestServer server;
    static LocalJwks google;

    @RegisterExtension
    static final ServerExtension lifecycle = ServerExtension.with(() -> {
                google = LocalJwks.start(OLD);
                return Map.of("TF_GOOGLE_CLIENT_IDS", CLIENT, "TF_GOOGLE_JWKS_URL", google.url());
            })
            .closing(() -> google)
            .then(s -> server = s);

    static HttpResponse<Buffer> signIn(RSAKey key) {
        String token = LocalJwks.sign(
                key,
                LocalJwks.google(CLIENT, UUID.randomUUID().toString(), "rot-" + UUID.randomUUID() + "@example.test")
                        .build());
        return TestServer.await(server.request(POST, "/api/v1/auth/oauth/google")
                .sendJsonObject(new JsonObject().put("idToken", token)));
    }

    @Test
    void aNewKeyIsFetchedWhenATokenNamesItTheWithdrawnOneIsRefusedAndHeldKeysOutliveTheProvider() throws Exception {
        google.awaitFirstFetch();
        assertThat(google.fetches()).as("the keys are fetched at start").isEqualTo(1);
        assertThat(signIn(OLD).statusCode()).isEqualTo(200);
        assertThat(google.fetches()).as("a held key costs no fetch").isEqualTo(1);

        google.publish(NEW);
        HttpResponse<Buffer> rotated = signIn(NEW);
        assertThat(rotated.statusCode()).as(rotated.bodyAsString()).isEqualTo(200);
        assertThat(google.fetches())
                .as("one fetch for the key id it did not hold")
                .isEqualTo(2);

        HttpResponse<Buffer> withdrawn = signIn(OLD);
        assertThat(withdrawn.statusCode()).isEqualTo(401);
        assertThat(withdrawn.bodyAsJsonObject().getString("code")).isEqualTo("invalid_id_token");
        assertThat(google.fetches()).as("no second fetch within the minute").isEqualTo(2);

        google.down();
        assertThat(signIn(NEW).statusCode())
                .as("Google unreachable: the keys held still sign in")
                .isEqualTo(200);
    }
}
