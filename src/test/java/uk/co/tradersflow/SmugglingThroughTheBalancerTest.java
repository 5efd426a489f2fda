package uk.co.tradersflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import uk.co.tradersflow.support.Haproxy;
import uk.co.tradersflow.support.LocalRedis;
import uk.co.tradersflow.support.RawHttp;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/**
 * Behind the real balancer (HAProxy in HTTP mode, reusing its connections to the servers), a
 * request the balancer and the server would frame differently must not shift the server's view of
 * the requests after it. A GET carrying the hixie-76 WebSocket keys had an 8-byte body for the
 * server (Netty) and none for HAProxy: the server answered it, then read the first 8 bytes of the
 * next request HAProxy sent on that connection as that body and the rest as a request of its own.
 */
class SmugglingThroughTheBalancerTest {
    @TempDir
    Path work;

    @Test
    void aGetWithHixie76KeysIsRefusedAndTheRequestAfterItIsAnsweredAsSent() throws Exception {
        assumeTrue(Haproxy.installed(), "haproxy is not installed (apt-get install -y haproxy)");
        try (LocalRedis redis = LocalRedis.start();
                TestServer s1 = TestServer.start(redis.settings())) {
            Map<String, String> second = new HashMap<>(redis.settings());
            second.put("TF_DEV_DATA_DIR", s1.config.ops().devDataDir().toString());
            try (TestServer s2 = TestServer.start(second);
                    Haproxy lb =
                            Haproxy.start(ports(s1), ports(s2), s1.config.ops().devDataDir(), work);
                    RawHttp client = RawHttp.connect(lb.httpsPort, true)) {
                TestUser user = new TestUsers(s1).create();
                String me = "GET /api/v1/me HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + user.token()
                        + "\r\n\r\n";
                // The balancer spreads requests over both servers and reuses its idle connections to
                // them: among the six after it, some reach the connection the odd GET came on.
                client.send("GET /health/live HTTP/1.1\r\nHost: localhost\r\n"
                        + "Sec-WebSocket-Key1: 4 @1  46546xW%0l 1 5\r\nSec-WebSocket-Key2: 12998 5 Y3 1  .P00\r\n\r\n"
                        + me.repeat(6));
                for (int i = 0; i < 50 && client.statuses().size() < 7; i++) {
                    client.readFor(200);
                }

                assertThat(client.statuses()).as(client.text()).containsExactly(400, 200, 200, 200, 200, 200, 200);
            }
        }
    }

    private static int[] ports(TestServer s) {
        return new int[] {s.config.http().httpsPort(), s.config.http().httpPort()};
    }
}
