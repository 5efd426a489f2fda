package uk.co.tradersflow.pages;

import static io.vertx.core.http.HttpMethod.GET;
import static io.vertx.core.http.HttpMethod.POST;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.support.MailedLinks;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.TestServer;

/** With TF_APP_URL naming a separate web app, email links lead there and this server serves no pages. */
class SeparateWebAppLinksTest {
    static final String APP = "https://app.tradersflow.test/web";
    static final String PASSWORD = "correct horse battery staple";
    static TestServer server;

    @RegisterExtension
    static final ServerExtension lifecycle = ServerExtension.with(
                    Map.of("TF_SMTP_PORT", Integer.toString(TestServer.freePort()), "TF_APP_URL", APP + "/"))
            .then(s -> server = s);

    @Test
    void emailLinksPointAtTheWebAppAndTheServerLeavesThosePathsToIt() throws Exception {
        String email = "app-" + UUID.randomUUID() + "@example.test";
        assertThat(post(
                                "/api/v1/auth/signup",
                                new JsonObject()
                                        .put("email", email)
                                        .put("password", PASSWORD)
                                        .put("businessName", "App Ltd"))
                        .statusCode())
                .isEqualTo(201);
        String verify = MailedLinks.newest(server, email, "verify_email");
        assertThat(verify).startsWith(APP + "/verify-email?token=");
        assertThat(post("/api/v1/auth/verify-email", new JsonObject().put("token", MailedLinks.token(verify)))
                        .statusCode())
                .as("the web app posts the token to the same API")
                .isEqualTo(204);
        assertThat(post("/api/v1/auth/password-reset/request", new JsonObject().put("email", email))
                        .statusCode())
                .isEqualTo(202);
        assertThat(MailedLinks.newest(server, email, "password_reset")).startsWith(APP + "/reset-password?token=");

        String access = post(
                        "/api/v1/auth/login",
                        new JsonObject().put("email", email).put("password", PASSWORD))
                .bodyAsJsonObject()
                .getString("accessToken");
        String newEmail = "app-" + UUID.randomUUID() + "@example.test";
        assertThat(TestServer.await(server.request(POST, "/api/v1/auth/email", access)
                                .sendJsonObject(new JsonObject()
                                        .put("currentPassword", PASSWORD)
                                        .put("newEmail", newEmail)))
                        .statusCode())
                .isEqualTo(202);
        assertThat(MailedLinks.newest(server, newEmail, "email_change_confirm"))
                .startsWith(APP + "/confirm-email?token=");

        for (String path :
                new String[] {"/verify-email?token=x", "/reset-password?token=x", "/confirm-email?token=x"}) {
            assertThat(TestServer.await(server.request(GET, path).send()).statusCode())
                    .as(path)
                    .isEqualTo(404);
        }
    }

    static HttpResponse<Buffer> post(String path, JsonObject body) {
        return TestServer.await(server.request(POST, path).sendJsonObject(body));
    }
}
