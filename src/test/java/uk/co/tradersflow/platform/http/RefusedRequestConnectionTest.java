package uk.co.tradersflow.platform.http;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.support.RawHttp;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.TestServer;

/**
 * A request refused before its body is read (no valid token, rate-limited) closes its HTTP/1.1
 * connection only when a body was announced, which it no longer follows; one without a body
 * leaves the connection open for the next request, so a client with an expired token (or an
 * attacker sending forged ones) costs no new TLS handshake per refusal.
 */
class RefusedRequestConnectionTest {
    static TestServer server;
    private static final String NEXT = "GET /health/live HTTP/1.1\r\nHost: localhost\r\n\r\n";

    @RegisterExtension
    static final ServerExtension lifecycle = ServerExtension.withDefaults().then(s -> server = s);

    /** The API is served on the HTTPS port only (the plain one redirects there). */
    private static RawHttp connect() throws Exception {
        return RawHttp.connect(server.config.http().httpsPort(), true);
    }

    @Test
    void aRefusedRequestWithoutABodyLeavesTheConnectionOpenForTheNext() throws Exception {
        try (RawHttp raw = connect()) {
            raw.send("GET /api/v1/me HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer a.forged.token\r\n\r\n"
                    + "GET /api/v1/customers HTTP/1.1\r\nHost: localhost\r\n\r\n"
                    + NEXT);

            assertThat(raw.closedWithin(1500)).as("keep-alive: still open").isFalse();
            assertThat(raw.statuses()).as(raw.text()).containsExactly(401, 401, 200);
            assertThat(raw.text()).doesNotContainIgnoringCase("connection: close");
        }
    }

    @Test
    void aRefusedRequestWhoseBodyWasAnnouncedStillClosesItsConnectionAfterTheAnswer() throws Exception {
        try (RawHttp raw = connect()) {
            raw.send("POST /api/v1/customers HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 2\r\n\r\n{}"
                    + NEXT);

            assertThat(raw.closedWithin(5000))
                    .as("the server closes the connection")
                    .isTrue();
            assertThat(raw.statuses()).as(raw.text()).containsExactly(401);
            assertThat(raw.text()).containsIgnoringCase("connection: close");
        }
    }

    /** HTTP/1.0 keep-alive: Vert.x answers "keep-alive" by default; a connection about to close says "close". */
    @Test
    void anHttp10KeepAliveRequestWithABodyIsToldCloseAndClosed() throws Exception {
        try (RawHttp raw = connect()) {
            raw.send("POST /api/v1/customers HTTP/1.0\r\nHost: localhost\r\nConnection: keep-alive\r\n"
                    + "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");

            assertThat(raw.closedWithin(5000))
                    .as("the server closes the connection")
                    .isTrue();
            assertThat(raw.statuses()).as(raw.text()).containsExactly(401);
            assertThat(raw.text())
                    .containsIgnoringCase("connection: close")
                    .doesNotContainIgnoringCase("connection: keep-alive");
        }
    }
}
