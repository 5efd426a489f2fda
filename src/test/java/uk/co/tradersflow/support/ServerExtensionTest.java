package uk.co.tradersflow.support;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.http.HttpMethod;
import java.io.IOException;
import java.net.ConnectException;
import java.net.Socket;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The lifecycle every server test class relies on, driven here by hand (no test context needed). */
class ServerExtensionTest {

    @Test
    void theServerRunsWithItsSettingsThenClosesBeforeWhatItOutlivesLastAddedFirst() throws Exception {
        List<String> order = new CopyOnWriteArrayList<>();
        int[] port = new int[1];
        ServerExtension lifecycle = ServerExtension.with(() -> {
                    order.add("settings");
                    return Map.of("TF_METRICS_TOKEN", "lifecycle-test-token");
                })
                .closing(() -> () -> order.add("added first, closed last"))
                .closing(() -> () -> order.add(
                        acceptsConnections(port[0]) ? "closed while the server ran" : "added last, closed first"))
                .closing(() -> null)
                .then(s -> order.add("started"));

        lifecycle.beforeAll(null);
        TestServer server = lifecycle.server();
        port[0] = server.config.http().httpsPort();
        assertThat(server.config.ops().metricsToken())
                .hasValueSatisfying(t -> assertThat(t).isEqualTo("lifecycle-test-token"));
        assertThat(TestServer.await(
                                server.request(HttpMethod.GET, "/health/ready").send())
                        .statusCode())
                .isEqualTo(200);
        lifecycle.afterAll(null);

        assertThat(order)
                .containsExactly("settings", "started", "added last, closed first", "added first, closed last");
        assertThat(acceptsConnections(port[0])).isFalse();
        assertThatThrownBy(lifecycle::server).hasMessageContaining("only while its test class does");
    }

    @Test
    void aCheckFailingAtCloseFailsTheClassAndWhatTheServerOutlivesIsStillClosed() throws Exception {
        List<String> closed = new CopyOnWriteArrayList<>();
        ServerExtension lifecycle = ServerExtension.withDefaults().closing(() -> () -> closed.add("fake"));
        lifecycle.beforeAll(null);
        // What Vert.x's checker says when an event loop is blocked, said while this server runs.
        LoggerFactory.getLogger("io.vertx.core.impl.BlockedThreadChecker")
                .warn("Thread vert.x-eventloop-thread-0 has been blocked");

        assertThatThrownBy(() -> lifecycle.afterAll(null))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("the blocked-thread checker stays silent");
        assertThat(closed).containsExactly("fake");
    }

    private static boolean acceptsConnections(int port) {
        try (Socket ignored = new Socket("localhost", port)) {
            return true;
        } catch (ConnectException refused) {
            return false;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
