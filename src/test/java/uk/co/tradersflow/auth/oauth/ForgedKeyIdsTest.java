package uk.co.tradersflow.auth.oauth;

import static io.vertx.core.http.HttpMethod.POST;
import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.RSAKey;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.TestServer;

/** An ID token's key id is the sender's choice: a flood of made-up ones must not make the server hammer Google. */
class ForgedKeyIdsTest {
    static final String CLIENT = "forged-kids-client.test";
    static final RSAKey PUBLISHED = LocalJwks.rsa("published");
    static final RSAKey FORGER = LocalJwks.rsa("forger");
    static TestServer server;
    static LocalJwks google;

    @RegisterExtension
    static final ServerExtension lifecycle = ServerExtension.with(() -> {
                google = LocalJwks.start(PUBLISHED);
                return Map.of(
                        "TF_GOOGLE_CLIENT_IDS",
                        CLIENT,
                        "TF_GOOGLE_JWKS_URL",
                        google.url(),
                        "TF_LOGIN_IP_LIMIT_PER_MINUTE",
                        "100000");
            })
            .closing(() -> google)
            .then(s -> server = s);

    @Test
    void aThousandTokensWithRandomKeyIdsFetchTheKeySetOnceAtMost() throws Exception {
        google.awaitFirstFetch();
        int before = google.fetches();
        assertThat(before).as("fetched at start").isEqualTo(1);
        int refused = 0;
        for (int batch = 0; batch < 20; batch++) {
            List<Future<HttpResponse<Buffer>>> sent = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                String token = LocalJwks.sign(
                        JWSAlgorithm.RS256,
                        "kid-" + UUID.randomUUID(),
                        LocalJwks.signer(FORGER),
                        LocalJwks.google(CLIENT, UUID.randomUUID().toString(), "f@example.test")
                                .build());
                sent.add(server.request(POST, "/api/v1/auth/oauth/google")
                        .sendJsonObject(new JsonObject().put("idToken", token)));
            }
            for (Future<HttpResponse<Buffer>> f : sent) {
                HttpResponse<Buffer> answer = TestServer.await(f);
                assertThat(answer.statusCode()).as(answer.bodyAsString()).isEqualTo(401);
                assertThat(answer.bodyAsJsonObject().getString("code")).isEqualTo("invalid_id_token");
                refused++;
            }
        }
        assertThat(refused).isEqualTo(1000);
        assertThat(google.fetches() - before)
                .as("fetches the thousand forged key ids caused")
                .isLessThanOrEqualTo(1);
    }
}
