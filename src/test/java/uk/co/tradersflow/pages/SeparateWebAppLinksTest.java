package uk.co.tradersflow.pages;

import static io.vertx.core.http.HttpMethod.GET;
import static io.vertx.core.http.HttpMethod.POST;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import uk.co.tradersflow.support.TestServer;

/** With TF_APP_URL naming a separate web app, email links lead there and this server serves no pages. */
class SeparateWebAppLinksTest {
  static final String APP = "https://app.tradersflow.test/web";
  static final String PASSWORD = "correct horse battery staple";
  static TestServer server;

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of("TF_SMTP_PORT", Integer.toString(TestServer.freePort()), "TF_APP_URL", APP + "/"));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void emailLinksPointAtTheWebAppAndTheServerLeavesThosePathsToIt() throws Exception {
    String email = "app-" + UUID.randomUUID() + "@example.test";
    assertThat(post("/api/v1/auth/signup", new JsonObject().put("email", email).put("password", PASSWORD)
        .put("businessName", "App Ltd")).statusCode()).isEqualTo(201);
    String verify = link(email, "verify_email");
    assertThat(verify).startsWith(APP + "/verify-email?token=");
    assertThat(post("/api/v1/auth/verify-email", new JsonObject().put("token", verify.replaceAll(".*[?&]token=", "")))
        .statusCode()).as("the web app posts the token to the same API").isEqualTo(204);
    assertThat(post("/api/v1/auth/password-reset/request", new JsonObject().put("email", email)).statusCode()).isEqualTo(202);
    assertThat(link(email, "password_reset")).startsWith(APP + "/reset-password?token=");

    String access = post("/api/v1/auth/login", new JsonObject().put("email", email).put("password", PASSWORD))
        .bodyAsJsonObject().getString("accessToken");
    String newEmail = "app-" + UUID.randomUUID() + "@example.test";
    assertThat(TestServer.await(server.request(POST, "/api/v1/auth/email", access)
        .sendJsonObject(new JsonObject().put("currentPassword", PASSWORD).put("newEmail", newEmail))).statusCode()).isEqualTo(202);
    assertThat(link(newEmail, "email_change_confirm")).startsWith(APP + "/confirm-email?token=");

    for (String path : new String[] {"/verify-email?token=x", "/reset-password?token=x", "/confirm-email?token=x"}) {
      assertThat(TestServer.await(server.request(GET, path).send()).statusCode()).as(path).isEqualTo(404);
    }
  }

  static HttpResponse<Buffer> post(String path, JsonObject body) {
    return TestServer.await(server.request(POST, path).sendJsonObject(body));
  }

  static String link(String email, String template) throws Exception {
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (true) {
      try (Connection c = server.env.admin();
           PreparedStatement ps = c.prepareStatement("SELECT model->>'link' FROM email_outbox WHERE recipient = ? AND template = ? "
               + "ORDER BY created_at DESC LIMIT 1")) {
        ps.setString(1, email);
        ps.setString(2, template);
        try (ResultSet rs = ps.executeQuery()) {
          if (rs.next()) {
            return rs.getString(1);
          }
        }
      }
      assertThat(System.nanoTime()).as(template + " email queued for " + email).isLessThan(deadline);
      Thread.sleep(50);
    }
  }
}
