package uk.co.tradersflow.platform.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import uk.co.tradersflow.config.ConfigException;
import uk.co.tradersflow.support.TestServer;

/** TF_BIND_ADDRESS, and the port check that runs before anything else at start-up. */
class ListenerBindingTest {

    private static Map<String, Integer> ports(int https, int http) {
        Map<String, Integer> ports = new LinkedHashMap<>();
        ports.put("TF_HTTPS_PORT", https);
        ports.put("TF_HTTP_PORT", http);
        return ports;
    }

    @Test
    void aPortInUseIsNamedWithItsSettingAndNumber() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getByName("0.0.0.0"))) {
            int port = taken.getLocalPort();
            assertThatThrownBy(() -> ListenerPorts.requireBindable("0.0.0.0", ports(port, TestServer.freePort())))
                    .isInstanceOf(ConfigException.class)
                    .hasMessageContaining("TF_HTTPS_PORT")
                    .hasMessageContaining("port " + port)
                    .hasMessageContaining("already in use");
            assertThatThrownBy(() -> ListenerPorts.requireBindable("0.0.0.0", ports(TestServer.freePort(), port)))
                    .isInstanceOf(ConfigException.class)
                    .hasMessageContaining("TF_HTTP_PORT")
                    .hasMessageContaining("port " + port);
        }
    }

    @Test
    void freePortsPassAndAreLeftFree() throws Exception {
        int[] free = TestServer.freePorts(2);
        int https = free[0];
        int http = free[1];
        ListenerPorts.requireBindable("0.0.0.0", ports(https, http));
        ListenerPorts.requireBindable("127.0.0.1", ports(0, 0));
        try (ServerSocket again = new ServerSocket()) {
            again.bind(new InetSocketAddress("0.0.0.0", https));
        }
    }

    @Test
    void oneNumberForBothPortsOrAnAddressNotOnThisHostIsRefused() {
        int port = TestServer.freePort();
        assertThatThrownBy(() -> ListenerPorts.requireBindable("0.0.0.0", ports(port, port)))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("TF_HTTPS_PORT and TF_HTTP_PORT");
        // TEST-NET-1 (RFC 5737): never an address of this host.
        assertThatThrownBy(() ->
                        ListenerPorts.requireBindable("192.0.2.1", ports(TestServer.freePort(), TestServer.freePort())))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("TF_BIND_ADDRESS");
    }

    /** The check runs in Main; a port taken between it and the listen still fails start-up with the same line. */
    @Test
    void aPortTakenAfterTheCheckStillFailsStartUpNamingTheSetting() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getByName("0.0.0.0"))) {
            int port = taken.getLocalPort();
            assertThatThrownBy(() -> TestServer.start(Map.of("TF_HTTP_PORT", Integer.toString(port)))
                            .close())
                    .hasMessageContaining("TF_HTTP_PORT")
                    .hasMessageContaining("port " + port)
                    .hasMessageContaining("already in use");
        }
    }

    @Test
    void theListenersBindOnlyTheConfiguredAddress() {
        try (TestServer server = TestServer.start(Map.of("TF_BIND_ADDRESS", "127.0.0.1"))) {
            for (int port : new int[] {
                server.config.http().httpPort(), server.config.http().httpsPort()
            }) {
                boolean tls = port == server.config.http().httpsPort();
                WebClient bound = client(server, "127.0.0.1", port, tls);
                WebClient other = client(server, "127.0.0.2", port, tls);
                try {
                    assertThat(TestServer.await(bound.get("/health/live")
                                            .timeout(5_000)
                                            .send())
                                    .statusCode())
                            .isEqualTo(200);
                    // All of 127/8 is loopback on Linux: only the bind address keeps 127.0.0.2 out.
                    assertThatThrownBy(() -> TestServer.await(
                                    other.get("/health/live").timeout(5_000).send()))
                            .hasMessageContaining("Connection refused");
                } finally {
                    bound.close();
                    other.close();
                }
            }
        }
    }

    private static WebClient client(TestServer server, String host, int port, boolean tls) {
        return WebClient.create(
                server.vertx,
                new WebClientOptions()
                        .setDefaultHost(host)
                        .setDefaultPort(port)
                        .setSsl(tls)
                        .setTrustAll(true)
                        .setVerifyHost(false));
    }
}
