package uk.co.tradersflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import uk.co.tradersflow.support.Haproxy;
import uk.co.tradersflow.support.LocalRedis;
import uk.co.tradersflow.support.RawHttp;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/**
 * Behind the real balancer (HAProxy in HTTP mode, reusing its connections to the servers, as
 * conf/haproxy ships), no request may be framed one way by the balancer and another by the server:
 * the server would take part of a later request the balancer sends on the same connection (perhaps
 * another client's) as the end of this one, and read the rest as a request of its own. Each case
 * sends one oddly framed request and then six signed-in GET /api/v1/me on one client connection;
 * the six must be answered 200, in order, or not at all (the balancer refused the odd one and
 * closed), never anything else.
 */
class SmugglingThroughTheBalancerTest {
    static LocalRedis redis;
    static TestServer s1;
    static TestServer s2;
    static Haproxy lb;
    static TestUser user;

    @TempDir
    static Path work;

    @BeforeAll
    static void balancer() throws Exception {
        assumeTrue(Haproxy.installed(), "haproxy is not installed (apt-get install -y haproxy)");
        redis = LocalRedis.start();
        s1 = TestServer.start(redis.settings());
        Map<String, String> second = new HashMap<>(redis.settings());
        second.put("TF_DEV_DATA_DIR", s1.config.ops().devDataDir().toString());
        s2 = TestServer.start(second);
        lb = Haproxy.start(ports(s1), ports(s2), s1.config.ops().devDataDir(), work);
        user = new TestUsers(s1).create();
    }

    @AfterAll
    static void stop() throws Exception {
        if (lb != null) {
            lb.close();
        }
        for (AutoCloseable c : new AutoCloseable[] {s2, s1, redis}) {
            if (c != null) {
                c.close();
            }
        }
    }

    private static int[] ports(TestServer s) {
        return new int[] {s.config.http().httpsPort(), s.config.http().httpPort()};
    }

    private static final String HIXIE_76 = "GET /health/live HTTP/1.1\r\nHost: localhost\r\n"
            + "Sec-WebSocket-Key1: 4 @1  46546xW%0l 1 5\r\nSec-WebSocket-Key2: 12998 5 Y3 1  .P00\r\n\r\n";

    /** The statuses of the odd request and of the six after it, sent on one new client connection. */
    private static List<Integer> oddThenSix(String odd) throws Exception {
        String me = "GET /api/v1/me HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + user.token() + "\r\n\r\n";
        try (RawHttp client = RawHttp.connect(lb.httpsPort, true)) {
            client.send(odd + me.repeat(6));
            for (int i = 0; i < 50 && client.statuses().size() < 7 && !client.closedWithin(200); i++) {
                // read on until seven answers or the balancer closes
            }
            return client.statuses();
        }
    }

    /**
     * Netty framed a GET carrying both hixie-76 keys with an 8-byte body; HAProxy with none. Before
     * the server refused such a GET the answers were 200, 200, 400, 200, 200, 200, 200: a later
     * request on the odd GET's connection lost its first 8 bytes.
     */
    @Test
    void aGetWithHixie76KeysIsRefusedAndTheRequestsAfterItAreAnsweredAsSent() throws Exception {
        assertThat(oddThenSix(HIXIE_76)).containsExactly(400, 200, 200, 200, 200, 200, 200);
    }

    static Stream<Arguments> oddFramings() {
        String post = "POST /health/live HTTP/1.1\r\nHost: localhost\r\n";
        return Stream.of(
                Arguments.of("Content-Length with leading zeros", post + "Content-Length: 05\r\n\r\nhello"),
                Arguments.of(
                        "the same Content-Length twice", post + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello"),
                Arguments.of("space before the colon", post + "Content-Length : 5\r\n\r\nhello"),
                Arguments.of("a folded header line", post + "X-Folded: a\r\n b\r\nContent-Length: 5\r\n\r\nhello"),
                Arguments.of(
                        "chunked with an extension",
                        post + "Transfer-Encoding: chunked\r\n\r\n5;x=1\r\nhello\r\n0\r\n\r\n"),
                Arguments.of(
                        "chunked with a padded size",
                        post + "Transfer-Encoding: chunked\r\n\r\n0005\r\nhello\r\n0\r\n\r\n"),
                Arguments.of(
                        "chunked with bare line feeds", post + "Transfer-Encoding: chunked\r\n\r\n5\nhello\n0\n\n"),
                Arguments.of(
                        "chunked, value padded", post + "Transfer-Encoding:  chunked \r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
                Arguments.of(
                        "a GET with a Content-Length body",
                        "GET /health/live HTTP/1.1\r\nHost: localhost\r\n" + "Content-Length: 5\r\n\r\nhello"),
                Arguments.of(
                        "an h2c upgrade",
                        "GET /health/live HTTP/1.1\r\nHost: localhost\r\n"
                                + "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n"),
                // Vert.x's decoder took a 14-letter name matching Content-Length in 12 letters as it.
                Arguments.of(
                        "a header one letter off Content-Length",
                        "GET /health/live HTTP/1.1\r\nHost: localhost\r\nContent-Xength: 8\r\n\r\n"),
                Arguments.of(
                        "a header one letter off Content-Type, with a body",
                        post + "Content-Tyxe: text/plain\r\nContent-Length: 5\r\n\r\nhello"),
                Arguments.of(
                        "one hixie-76 key alone",
                        "GET /health/live HTTP/1.1\r\nHost: localhost\r\n"
                                + "Sec-WebSocket-Key1: 4 @1  46546xW%0l 1 5\r\n\r\n"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("oddFramings")
    void noOddFramingShiftsTheRequestsAfterIt(String name, String odd) throws Exception {
        List<Integer> statuses = oddThenSix(odd);
        assertThat(statuses).as(name).isNotEmpty();
        List<Integer> after = statuses.subList(1, statuses.size());
        assertThat(after.isEmpty() || after.equals(List.of(200, 200, 200, 200, 200, 200)))
                .as(name + ": the six after the odd request, answered 200 or not at all: " + statuses)
                .isTrue();
    }
}
