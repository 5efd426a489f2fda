package uk.co.tradersflow.platform.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import uk.co.tradersflow.support.RawHttp;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;

/**
 * Slow clients (slowloris) are cut off, with the deadlines shortened to a second so the test is
 * quick (the defaults are the contract's 10 s): a head trickled a line at a time, a body slower
 * than the minimum rate, more connections from one address than the cap; and a route that needs
 * a token answers 401 before the body is sent.
 */
class SlowClientTest {
    static final int CAP = 8;
    static TestServer server;

    @RegisterExtension
    static final ServerExtension lifecycle = ServerExtension.with(Map.of(
                    "TF_HTTP_HEAD_TIMEOUT_MS",
                    "1000",
                    "TF_HTTP_BODY_WINDOW_MS",
                    "1000",
                    "TF_MAX_CONNECTIONS_PER_IP",
                    Integer.toString(CAP)))
            .then(s -> server = s);

    private static RawHttp connect(boolean tls) throws Exception {
        return RawHttp.connect(
                tls ? server.config.http().httpsPort() : server.config.http().httpPort(), tls);
    }

    @ParameterizedTest(name = "tls={0}")
    @ValueSource(booleans = {true, false})
    void headTrickledALineAtATimeIsCutOffAtTheHeadDeadline(boolean tls) throws Exception {
        try (RawHttp raw = connect(tls)) {
            long start = System.nanoTime();
            raw.send("GET /health/live HTTP/1.1\r\nHost: localhost\r\n");
            boolean writable = true;
            for (int i = 0; i < 30 && writable && !raw.closedWithin(250); i++) {
                writable = raw.writable("X-Slow-" + i + ": a\r\n");
            }
            long elapsedMs = (System.nanoTime() - start) / 1_000_000;

            assertThat(raw.closedWithin(500) || !writable).as("cut off").isTrue();
            assertThat(elapsedMs)
                    .as(
                            "cut off at the 1 s deadline (with room for a busy machine), not after the 7.5 s the client kept sending")
                    .isBetween(900L, 4000L);
            assertThat(raw.statuses()).as("nothing was served").isEmpty();
        }
    }

    @Test
    void connectionThatSendsNothingIsClosedAtTheHeadDeadline() throws Exception {
        try (RawHttp raw = connect(true)) {
            assertThat(raw.closedWithin(700)).as("not before the deadline").isFalse();
            assertThat(raw.closedWithin(3000)).as("closed after it").isTrue();
        }
    }

    @Test
    void idleKeepAliveConnectionIsNotCutByTheHeadDeadlineBetweenRequests() throws Exception {
        try (RawHttp raw = connect(true)) {
            raw.send("GET /health/live HTTP/1.1\r\nHost: localhost\r\n\r\n");
            assertThat(raw.readFor(1500)).contains("200 OK");

            assertThat(raw.closedWithin(1000))
                    .as("idle for longer than the head deadline, still open")
                    .isFalse();
            raw.send("GET /health/live HTTP/1.1\r\nHost: localhost\r\n\r\n");
            raw.readFor(1000);
            assertThat(raw.statuses()).containsExactly(200, 200);
        }
    }

    @Test
    void aSecondHeadOnAKeepAliveConnectionHasItsWholeDeadlineAndNoMore() throws Exception {
        try (RawHttp raw = connect(true)) {
            raw.send("GET /health/live HTTP/1.1\r\nHost: localhost\r\n\r\n");
            assertThat(raw.readFor(600)).contains("200 OK");

            // The connection's head clock last started with the connection: it ticks about 400 ms
            // into this head, which must still have its whole second from its first byte.
            long start = System.nanoTime();
            raw.send("GET /health/live HTTP/1.1\r\nHost: localhost\r\n");
            assertThat(raw.closedWithin(700))
                    .as("not cut before its own deadline")
                    .isFalse();
            assertThat(raw.closedWithin(3500)).as("cut after it").isTrue();
            long elapsedMs = (System.nanoTime() - start) / 1_000_000;
            assertThat(elapsedMs)
                    .as("cut off at its 1 s deadline (with room for a busy machine)")
                    .isBetween(900L, 4300L);
            assertThat(raw.statuses()).containsExactly(200);
        }
    }

    @Test
    void bodySlowerThanTheMinimumRateIsCutOff() throws Exception {
        try (RawHttp raw = connect(true)) {
            raw.send("POST /api/v1/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 4000\r\n\r\n{\"email\":\"");
            long start = System.nanoTime();
            boolean writable = true;
            for (int i = 0; i < 50 && writable && !raw.closedWithin(200); i++) {
                writable = raw.writable("aaaaaaaaaaaaaaaaaaaa"); // 20 bytes / 200 ms: 100 B/s, a fifth of the minimum
            }
            long elapsedMs = (System.nanoTime() - start) / 1_000_000;

            assertThat(raw.closedWithin(500) || !writable).as("cut off").isTrue();
            assertThat(elapsedMs)
                    .as("within a few body windows, not after the 10 s the client kept sending")
                    .isLessThan(5000L);
            assertThat(raw.statuses()).isEmpty();
        }
    }

    @Test
    void bodyAtAnHonestPaceIsReadToTheEndAndAnswered() throws Exception {
        try (RawHttp raw = connect(true)) {
            String padding = "a".repeat(3000);
            String body = "{\"email\":\"" + padding + "\"}";
            raw.send("POST /api/v1/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + body.length() + "\r\n\r\n");
            for (int i = 0; i < body.length(); i += 400) {
                raw.send(body.substring(
                        i, Math.min(body.length(), i + 400))); // 400 bytes / 150 ms: five times the minimum
                Thread.sleep(150);
            }

            raw.readFor(2000);
            assertThat(raw.statuses()).as(raw.text()).hasSize(1).allMatch(s -> s >= 400 && s < 500);
        }
    }

    @Test
    void connectionsOverThePerAddressCapAreClosedOnEitherPortUntilOneEnds() throws Exception {
        ClientConnections counts = ClientConnections.of(server.vertx, CAP);
        InetAddress loopback = InetAddress.getByName("localhost");
        List<RawHttp> held = new ArrayList<>();
        try {
            // The test server's own client may hold a keep-alive connection or two; they count too.
            while (counts.openFrom(loopback) < CAP && held.size() <= CAP) {
                RawHttp raw = connect(held.size() % 2 == 0);
                held.add(raw);
                raw.send("GET /health/live HTTP/1.1\r\nHost: localhost\r\n\r\n");
                assertThat(raw.readFor(1000))
                        .as("connection %d is served", held.size())
                        .contains("200 OK");
            }

            for (boolean tls : new boolean[] {false, true}) {
                try (RawHttp over =
                        tls ? RawHttp.connectOrNull(server.config.http().httpsPort()) : connect(false)) {
                    if (over != null) {
                        over.writable("GET /health/live HTTP/1.1\r\nHost: localhost\r\n\r\n");
                        assertThat(over.closedWithin(1000))
                                .as("over the cap, tls=%s", tls)
                                .isTrue();
                        assertThat(over.statuses()).isEmpty();
                    }
                }
            }

            held.remove(0).close();
            long deadline = System.currentTimeMillis() + 2000;
            while (counts.openFrom(loopback) >= CAP && System.currentTimeMillis() < deadline) {
                Thread.sleep(20);
            }
            try (RawHttp again = connect(true)) {
                again.send("GET /health/live HTTP/1.1\r\nHost: localhost\r\n\r\n");
                assertThat(again.readFor(1000)).as("a place came free").contains("200 OK");
            }
        } finally {
            for (RawHttp raw : held) {
                raw.close();
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"none", "Bearer not-a-token"})
    void tokenRouteAnswers401BeforeTheBodyIsSent(String authorization) throws Exception {
        try (RawHttp raw = connect(true)) {
            raw.send("POST /api/v1/customers HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + (authorization.equals("none") ? "" : "Authorization: " + authorization + "\r\n")
                    + "Expect: 100-continue\r\nContent-Length: 900000\r\n\r\n");

            raw.readFor(1500);
            assertThat(raw.statuses()).as(raw.text()).containsExactly(401);
            assertThat(raw.text())
                    .as("no invitation to send the body")
                    .doesNotContain("100 Continue")
                    .containsIgnoringCase("connection: close");
        }
    }

    @Test
    void tokenRouteWithAValidTokenStillReadsTheBody() throws Exception {
        String token = new TestUsers(server).create().token();
        try (RawHttp raw = connect(true)) {
            String body = "{\"name\":\"Slow but honest\"}";
            raw.send("POST /api/v1/customers HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Authorization: Bearer " + token + "\r\nContent-Length: " + body.length() + "\r\n\r\n" + body);

            raw.readFor(2000);
            assertThat(raw.statuses()).as(raw.text()).containsExactly(201);
        }
    }
}
