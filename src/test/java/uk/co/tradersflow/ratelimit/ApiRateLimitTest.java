package uk.co.tradersflow.ratelimit;

import static io.vertx.core.http.HttpMethod.GET;
import static io.vertx.core.http.HttpMethod.POST;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.Test;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

class ApiRateLimitTest {

  @Test
  void theApiBudgetIsPerUserWithHeadersAnd429RetryAfterWhenSpent() {
    try (TestServer server = TestServer.start(Map.of("TF_API_RATE_PER_SECOND", "1", "TF_API_BURST", "3"))) {
      TestUsers users = new TestUsers(server);
      TestUser a = users.create();
      TestUser b = users.create();
      HttpResponse<Buffer> first = server.send(GET, "/api/v1/customers", a.token());
      assertThat(first.statusCode()).isEqualTo(200);
      assertThat(first.getHeader("RateLimit-Limit")).isEqualTo("3");
      assertThat(first.getHeader("RateLimit-Remaining")).isEqualTo("2");
      assertThat(Long.parseLong(first.getHeader("RateLimit-Reset"))).isBetween(1L, 3L);
      server.send(GET, "/api/v1/customers", a.token());
      server.send(GET, "/api/v1/customers", a.token());
      HttpResponse<Buffer> limited = server.send(GET, "/api/v1/customers", a.token());
      assertThat(limited.statusCode()).isEqualTo(429);
      assertThat(limited.bodyAsJsonObject().getString("code")).isEqualTo("rate_limited");
      assertThat(limited.getHeader("Retry-After")).isEqualTo("1");
      assertThat(limited.getHeader("RateLimit-Remaining")).isEqualTo("0");
      assertThat(server.send(GET, "/api/v1/customers", b.token()).statusCode()).as("another user's budget is untouched").isEqualTo(200);
    }
  }

  @Test
  void withRedisDownSignInFailsClosedWhileTheApiKeepsWorkingOnLocalLimits() {
    try (TestServer server = TestServer.start(Map.of("TF_REDIS_URL", "redis://127.0.0.1:" + TestServer.freePort(),
        "TF_API_RATE_PER_SECOND", "1", "TF_API_BURST", "2"))) {
      TestUser a = new TestUsers(server).create();
      HttpResponse<Buffer> login = TestServer.await(server.request(POST, "/api/v1/auth/login")
          .sendJsonObject(new JsonObject().put("email", a.email()).put("password", "whatever it may be")));
      assertThat(login.statusCode()).isEqualTo(503);
      assertThat(server.send(GET, "/api/v1/customers", a.token()).statusCode()).isEqualTo(200);
      assertThat(server.send(GET, "/api/v1/customers", a.token()).statusCode()).isEqualTo(200);
      assertThat(server.send(GET, "/api/v1/customers", a.token()).statusCode()).as("the local budget still limits").isEqualTo(429);
      HttpResponse<Buffer> ready = TestServer.await(server.plainClient.get("/health/ready").send());
      assertThat(ready.statusCode()).isEqualTo(503);
      assertThat(ready.bodyAsJsonObject().getJsonObject("checks").getJsonObject("redis").getString("status")).isEqualTo("DOWN");
    }
  }
}
