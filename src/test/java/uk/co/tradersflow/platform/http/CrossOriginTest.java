package uk.co.tradersflow.platform.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/** Browser clients on the origins in TF_CORS_ORIGINS, and only those, as a browser sees the answers. */
class CrossOriginTest {
    static final String APP = "https://app.example.com";
    static final String DEV = "http://localhost:5173";

    static TestServer server;
    static TestUser user;

    @RegisterExtension
    static final ServerExtension lifecycle = ServerExtension.with(Map.of("TF_CORS_ORIGINS", APP + "," + DEV))
            .then(s -> server = s)
            .then(s -> user = new TestUsers(s).create());

    private static HttpResponse<Buffer> preflight(String origin, String method, String headers) {
        return TestServer.await(server.request(HttpMethod.OPTIONS, "/api/v1/customers")
                .putHeader("Origin", origin)
                .putHeader("Access-Control-Request-Method", method)
                .putHeader("Access-Control-Request-Headers", headers)
                .send());
    }

    private static Set<String> list(String header) {
        return header == null
                ? Set.of()
                : Arrays.stream(header.split(","))
                        .map(String::trim)
                        .map(String::toLowerCase)
                        .collect(Collectors.toSet());
    }

    private static Set<String> corsHeaders(HttpResponse<Buffer> r) {
        return r.headers().names().stream()
                .map(String::toLowerCase)
                .filter(n -> n.startsWith("access-control-"))
                .collect(Collectors.toSet());
    }

    @Test
    void aListedOriginsPreflightAnswers204WithTheApisMethodsAndHeadersAndNoCredentials() {
        for (String origin : new String[] {APP, DEV}) {
            HttpResponse<Buffer> r = preflight(origin, "POST", "authorization, content-type, idempotency-key");
            assertThat(r.statusCode()).as(origin).isEqualTo(204);
            assertThat(r.getHeader("Access-Control-Allow-Origin")).isEqualTo(origin);
            assertThat(list(r.getHeader("Access-Control-Allow-Methods")))
                    .contains("get", "head", "post", "patch", "delete");
            assertThat(list(r.getHeader("Access-Control-Allow-Headers")))
                    .contains("authorization", "content-type", "idempotency-key");
            assertThat(r.getHeader("Access-Control-Allow-Credentials")).isNull();
            assertThat(r.getHeader("Access-Control-Max-Age")).isEqualTo("600");
            assertThat(list(r.getHeader("Vary"))).contains("origin");
            assertThat(r.body() == null ? 0 : r.body().length()).isZero();
        }
    }

    @Test
    void aListedOriginsRequestIsAnsweredWithItsOriginAndReadableHeaders() {
        HttpResponse<Buffer> created =
                TestServer.await(server.request(HttpMethod.POST, "/api/v1/customers", user.token())
                        .putHeader("Origin", APP)
                        .sendJsonObject(new JsonObject().put("name", "From the web app")));
        assertThat(created.statusCode()).isEqualTo(201);
        assertThat(created.getHeader("Access-Control-Allow-Origin")).isEqualTo(APP);
        assertThat(created.getHeader("Access-Control-Allow-Credentials")).isNull();
        assertThat(list(created.getHeader("Access-Control-Expose-Headers")))
                .contains("x-request-id", "retry-after", "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset");
        assertThat(list(created.getHeader("Vary"))).contains("origin");

        // Errors carry the CORS headers too, or the page could not read why it failed.
        HttpResponse<Buffer> refused = TestServer.await(server.request(HttpMethod.GET, "/api/v1/customers")
                .putHeader("Origin", APP)
                .send());
        assertThat(refused.statusCode()).isEqualTo(401);
        assertThat(refused.getHeader("Access-Control-Allow-Origin")).isEqualTo(APP);
    }

    @Test
    void anOriginNotListedGetsNoCorsHeadersAndIsOtherwiseServedAsBefore() {
        for (String origin : new String[] {
            "https://evil.example",
            "https://app.example.com.evil.example",
            "http://app.example.com",
            "https://localhost:5173",
            "null"
        }) {
            HttpResponse<Buffer> pre = preflight(origin, "DELETE", "authorization");
            assertThat(pre.statusCode()).as(origin).isEqualTo(405);
            assertThat(corsHeaders(pre)).as(origin).isEmpty();
            assertThat(list(pre.getHeader("Vary")))
                    .as("cached answers still key on the origin")
                    .contains("origin");

            HttpResponse<Buffer> get =
                    TestServer.await(server.request(HttpMethod.GET, "/api/v1/customers", user.token())
                            .putHeader("Origin", origin)
                            .send());
            assertThat(get.statusCode()).as(origin).isEqualTo(200);
            assertThat(corsHeaders(get)).as(origin).isEmpty();
        }
        HttpResponse<Buffer> noOrigin = server.send(HttpMethod.GET, "/api/v1/customers", user.token());
        assertThat(noOrigin.statusCode()).isEqualTo(200);
        assertThat(corsHeaders(noOrigin)).isEmpty();
        assertThat(list(noOrigin.getHeader("Vary"))).contains("origin");
    }
}
