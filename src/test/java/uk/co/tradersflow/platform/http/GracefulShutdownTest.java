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
import java.util.UUID;
import org.junit.jupiter.api.Test;
import uk.co.tradersflow.support.Sql;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/**
 * Shutting down first drains (readiness 503, everything still served), then stops accepting but
 * lets a request already in flight finish and commit.
 */
class GracefulShutdownTest {

    /** A customer being created, its head and the first 10 bytes of its body on the wire. */
    private record InFlight(String name, Buffer body, HttpClientRequest request, Future<JsonObject> response) {
        static InFlight start(HttpClient client, String token) {
            String name = "in-flight-" + UUID.randomUUID();
            Buffer body = new JsonObject().put("name", name).toBuffer();
            HttpClientRequest request = TestServer.await(client.request(new RequestOptions()
                    .setMethod(HttpMethod.POST)
                    .setURI("/api/v1/customers")
                    .putHeader("Authorization", "Bearer " + token)
                    .putHeader("Content-Type", "application/json")
                    .putHeader("Content-Length", Integer.toString(body.length()))));
            // Body read in the same chain: a response's data is not kept for a handler set later.
            Future<JsonObject> response = request.response().compose(resp -> resp.body()
                    .map(b -> new JsonObject().put("status", resp.statusCode()).put("body", b.toJsonObject())));
            TestServer.await(request.write(body.getBuffer(0, 10)));
            return new InFlight(name, body, request, response);
        }

        /** Sends the rest of the body: the request completes and was answered 201 with the customer. */
        void finishesCreated() {
            TestServer.await(request.end(body.getBuffer(10, body.length())));
            JsonObject r = TestServer.await(response);
            assertThat(r.getInteger("status")).isEqualTo(201);
            assertThat(r.getJsonObject("body").getString("name")).isEqualTo(name);
        }
    }

    /**
     * As Main's shutdown hook runs it on SIGTERM: drain, then close Vert.x. During the drain a load
     * balancer's readiness probe (either port) sees 503 while API requests, on new connections too,
     * are answered; afterwards new connections are refused and a request in flight still completes.
     */
    @Test
    void readinessAnswers503ForTheDrainWhileRequestsAreStillServedThenInFlightRequestsFinish() throws Exception {
        Vertx clientVertx = Vertx.vertx();
        try (TestServer server = TestServer.start(java.util.Map.of("TF_SHUTDOWN_DRAIN_SECONDS", "3"))) {
            TestUser user = new TestUsers(server).create();
            assertThat(TestServer.await(server.request(HttpMethod.GET, "/health/ready")
                                    .send())
                            .statusCode())
                    .isEqualTo(200);
            HttpClientOptions options = new HttpClientOptions()
                    .setSsl(true)
                    .setTrustAll(true)
                    .setVerifyHost(false)
                    .setDefaultHost("localhost")
                    .setDefaultPort(server.config.http().httpsPort());
            // Opened before the drain and used after it: the kind of request a balancer still routes here.
            HttpClient inFlightClient = clientVertx.createHttpClient(options);

            long drainStarted = System.nanoTime();
            Future<Void> drained = server.main.drain();

            var ready = TestServer.await(
                    server.request(HttpMethod.GET, "/health/ready").send());
            assertThat(ready.statusCode()).isEqualTo(503);
            assertThat(ready.bodyAsJsonObject()
                            .getJsonObject("checks")
                            .getJsonObject("shutdown")
                            .getString("status"))
                    .isEqualTo("DOWN");
            assertThat(TestServer.await(server.plainClient.get("/health/ready").send())
                            .statusCode())
                    .isEqualTo(503);
            assertThat(TestServer.await(server.request(HttpMethod.GET, "/health/live")
                                    .send())
                            .statusCode())
                    .isEqualTo(200);
            HttpClient fresh = clientVertx.createHttpClient(options);
            int served = TestServer.await(fresh.request(new RequestOptions()
                            .setMethod(HttpMethod.GET)
                            .setURI("/api/v1/customers")
                            .putHeader("Authorization", "Bearer " + user.token()))
                    .compose(req -> req.send())
                    .map(resp -> resp.statusCode()));
            assertThat(served)
                    .as("an API request on a new connection during the drain")
                    .isEqualTo(200);

            InFlight inFlight = InFlight.start(inFlightClient, user.token());
            assertThat(drained.isComplete()).as("still draining").isFalse();

            TestServer.await(drained);
            assertThat(System.nanoTime() - drainStarted)
                    .as("the drain lasts TF_SHUTDOWN_DRAIN_SECONDS")
                    .isGreaterThanOrEqualTo(java.util.concurrent.TimeUnit.SECONDS.toNanos(3));
            Future<Void> closed = server.vertx.close();
            Thread.sleep(500); // the listeners have stopped accepting: there is no signal to wait on
            HttpClient late = clientVertx.createHttpClient(options);
            assertThat(late.request(new RequestOptions()
                                    .setMethod(HttpMethod.GET)
                                    .setURI("/health/live"))
                            .compose(req -> req.send())
                            .map(resp -> resp.statusCode())
                            .toCompletionStage()
                            .toCompletableFuture()
                            .handle((status, error) -> error != null)
                            .get())
                    .as("a new connection after the drain is refused")
                    .isTrue();
            assertThat(closed.isComplete())
                    .as("closing waits for the request in flight")
                    .isFalse();

            inFlight.finishesCreated();
            TestServer.await(closed);
        } finally {
            TestServer.await(clientVertx.close());
        }
    }

    @Test
    void anInFlightRequestCompletesWhileTheServerUndeploys() throws Exception {
        Vertx clientVertx = Vertx.vertx();
        try (TestServer server = TestServer.start()) {
            TestUser user = new TestUsers(server).create();
            HttpClient client = clientVertx.createHttpClient(new HttpClientOptions()
                    .setSsl(true)
                    .setTrustAll(true)
                    .setVerifyHost(false)
                    .setDefaultHost("localhost")
                    .setDefaultPort(server.config.http().httpsPort()));
            // The request is on the wire, headers and part of the body sent; the handler cannot run yet.
            InFlight inFlight = InFlight.start(client, user.token());
            Thread.sleep(300); // let the server read the head: there is no signal for "request received" to wait on

            Future<Void> undeployed = server.vertx.undeploy(server.main.deploymentID());
            Thread.sleep(300); // shutdown has begun
            assertThat(undeployed.isComplete())
                    .as("shutdown waits for the request in flight")
                    .isFalse();
            inFlight.finishesCreated();
            TestServer.await(undeployed);
            assertThat(Sql.admin().count("SELECT count(*) FROM customers WHERE name = ?", inFlight.name()))
                    .as("the in-flight request's work committed")
                    .isEqualTo(1);
        } finally {
            TestServer.await(clientVertx.close());
        }
    }
}
