package uk.co.tradersflow.platform.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/** Shutting down stops accepting but lets a request already in flight finish and commit. */
class GracefulShutdownTest {

  @Test
  void anInFlightRequestCompletesWhileTheServerUndeploys() throws Exception {
    Vertx clientVertx = Vertx.vertx();
    try (TestServer server = TestServer.start()) {
      TestUser user = new TestUsers(server).create();
      HttpClient client = clientVertx.createHttpClient(new HttpClientOptions().setSsl(true).setTrustAll(true)
          .setVerifyHost(false).setDefaultHost("localhost").setDefaultPort(server.config.httpsPort()));
      String name = "in-flight-" + UUID.randomUUID();
      Buffer body = new JsonObject().put("name", name).toBuffer();

      // The request is on the wire, headers and half the body sent; the handler cannot run yet.
      HttpClientRequest request = TestServer.await(client.request(new RequestOptions().setMethod(HttpMethod.POST)
          .setURI("/api/v1/customers").putHeader("Authorization", "Bearer " + user.token())
          .putHeader("Content-Type", "application/json").putHeader("Content-Length", Integer.toString(body.length()))));
      // Body read in the same chain: a response's data is not kept for a handler set later.
      Future<JsonObject> response = request.response().compose(resp -> resp.body()
          .map(b -> new JsonObject().put("status", resp.statusCode()).put("body", b.toJsonObject())));
      TestServer.await(request.write(body.getBuffer(0, 10)));
      Thread.sleep(300); // let the server read the head: there is no signal for "request received" to wait on

      Future<Void> undeployed = server.vertx.undeploy(server.main.deploymentID());
      Thread.sleep(300); // shutdown has begun
      assertThat(undeployed.isComplete()).as("shutdown waits for the request in flight").isFalse();
      TestServer.await(request.end(body.getBuffer(10, body.length())));
      JsonObject r = TestServer.await(response);
      assertThat(r.getInteger("status")).isEqualTo(201);
      assertThat(r.getJsonObject("body").getString("name")).isEqualTo(name);
      TestServer.await(undeployed);
      try (Connection c = server.env.admin();
           PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM customers WHERE name = ?")) {
        ps.setString(1, name);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          assertThat(rs.getLong(1)).as("the in-flight request's work committed").isEqualTo(1);
        }
      }
    } finally {
      TestServer.await(clientVertx.close());
    }
  }
}
