package uk.co.tradersflow.platform.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import uk.co.tradersflow.support.RawHttp;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.TestServer;

/**
 * Request smuggling (RFC 9112 6.1, 6.3): each ambiguous framing is answered 400 and the
 * connection closed, on both listeners, and the request hidden after it never runs. The hidden
 * request is a GET /health/live, which would answer 200 if it ran.
 */
class StrictFramingTest {
    static TestServer server;
    private static final String HIDDEN = "GET /health/live HTTP/1.1\r\nHost: localhost\r\n\r\n";

    @RegisterExtension
    static final ServerExtension lifecycle = ServerExtension.withDefaults().then(s -> server = s);

    static Stream<Arguments> ambiguousFramings() {
        String chunkedEnd = "0\r\n\r\n";
        return Stream.of(
                Arguments.of(
                        "Content-Length and chunked",
                        "POST /health/live HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n"
                                + "Transfer-Encoding: chunked\r\n\r\n" + chunkedEnd),
                Arguments.of(
                        "Content-Length and identity",
                        "POST /health/live HTTP/1.1\r\nHost: localhost\r\n"
                                + "Transfer-Encoding: identity\r\nContent-Length: 0\r\n\r\n"),
                Arguments.of(
                        "chunked, identity",
                        "POST /health/live HTTP/1.1\r\nHost: localhost\r\n"
                                + "Transfer-Encoding: chunked, identity\r\n\r\n" + chunkedEnd),
                Arguments.of(
                        "two Transfer-Encoding fields",
                        "POST /health/live HTTP/1.1\r\nHost: localhost\r\n"
                                + "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n" + chunkedEnd),
                Arguments.of(
                        "two chunked fields",
                        "POST /health/live HTTP/1.1\r\nHost: localhost\r\n"
                                + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n" + chunkedEnd),
                Arguments.of(
                        "Transfer-Encoding on HTTP/1.0",
                        "POST /health/live HTTP/1.0\r\nHost: localhost\r\n"
                                + "Connection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n" + chunkedEnd),
                // Netty reads 8 bytes of body after these (hixie-76), where a proxy reads none: the
                // hidden request would start 8 bytes in, "GET /hea" taken as a body.
                Arguments.of(
                        "hixie-76 WebSocket keys on a GET",
                        "GET /health/live HTTP/1.1\r\nHost: localhost\r\nSec-WebSocket-Key1: 4 @1  46546xW%0l 1 5\r\n"
                                + "Sec-WebSocket-Key2: 12998 5 Y3 1  .P00\r\n\r\n"),
                // HAProxy 2.6 ignores a CONNECT's Content-Length and passes the header on.
                Arguments.of(
                        "CONNECT with a Content-Length",
                        "CONNECT localhost:443 HTTP/1.1\r\nHost: localhost:443\r\nContent-Length: 5\r\n\r\nhello"));
    }

    static Stream<Arguments> onBothPorts() {
        return ambiguousFramings()
                .flatMap(a -> Stream.of(true, false).map(tls -> Arguments.of(a.get()[0], a.get()[1], tls)));
    }

    @ParameterizedTest(name = "{0}, tls={2}")
    @MethodSource("onBothPorts")
    void ambiguousFramingIsRefusedAndTheConnectionClosedBeforeTheNextRequestRuns(
            String variant, String request, boolean tls) throws Exception {
        try (RawHttp raw = RawHttp.connect(
                tls ? server.config.http().httpsPort() : server.config.http().httpPort(), tls)) {
            raw.send(request + HIDDEN);

            assertThat(raw.closedWithin(5000))
                    .as("the server closes the connection")
                    .isTrue();
            assertThat(raw.statuses()).as(raw.text()).containsExactly(400);
            String text = raw.text();
            assertThat(text)
                    .containsIgnoringCase("content-type: application/problem+json")
                    .containsIgnoringCase("connection: close")
                    .containsIgnoringCase("x-request-id: ")
                    .containsIgnoringCase("content-security-policy: default-src 'none'");
            assertThat(text.toLowerCase(java.util.Locale.ROOT).contains("strict-transport-security: max-age=63072000"))
                    .isEqualTo(tls);
            JsonObject problem = new JsonObject(text.substring(text.indexOf("\r\n\r\n") + 4));
            assertThat(problem.getString("code")).isEqualTo("malformed_request");
            assertThat(problem.getInteger("status")).isEqualTo(400);
            assertThat(problem.getString("detail")).containsAnyOf("Transfer-Encoding", "Sec-WebSocket-Key1", "CONNECT");
        }
    }

    /** The control: the same bytes with honest framing are served, and so is the request after them. */
    @ParameterizedTest(name = "tls={0}")
    @ValueSource(booleans = {true, false})
    void honestChunkedRequestIsServedAndTheConnectionStaysOpenForTheNext(boolean tls) throws Exception {
        try (RawHttp raw = RawHttp.connect(
                tls ? server.config.http().httpsPort() : server.config.http().httpPort(), tls)) {
            raw.send(
                    "POST /health/live HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
                            + HIDDEN);

            assertThat(raw.closedWithin(1500)).as("keep-alive: still open").isFalse();
            assertThat(raw.statuses()).as(raw.text()).hasSize(2).endsWith(200).doesNotContain(400);
        }
    }
}
