package uk.co.tradersflow.error;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;
import uk.co.tradersflow.support.LogCapture;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TrustAllTls;

/**
 * A client's broken request or lost patience is the client's mistake: logged as one line
 * without a stack trace, never as a server fault or an outage, with the status it really had.
 */
class ClientMistakeLoggingTest {
    static TestServer server;
    static Logger requestLog = (Logger) LoggerFactory.getLogger("tradersflow.request");
    static Level requestLogLevel;

    @RegisterExtension
    static final ServerExtension lifecycle = ServerExtension.withDefaults().then(s -> {
        server = s;
        requestLogLevel = requestLog.getLevel();
        requestLog.setLevel(Level.INFO);
    });

    @AfterAll
    static void stop() {
        requestLog.setLevel(requestLogLevel);
    }

    @Test
    void aChunkSizeOverflowIsAWarningWithoutStackTraceAndItsRequestLineSays400() throws Exception {
        try (LogCapture logs = new LogCapture();
                SSLSocket s = connect()) {
            send(
                    s,
                    "POST /api/v1/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                            + "Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFFFFFF\r\n");
            String text = awaitRequestLine(logs);
            assertThat(text)
                    .contains("WARN uk.co.tradersflow.platform.http.ProblemResponder - malformed request framing")
                    .contains("Chunk size overflow")
                    .doesNotContain("ERROR", "\tat ", "unexpected failure")
                    .containsPattern("method=POST route=/api/v1/auth/login status=400 ");
        }
    }

    @Test
    void aClientAbandoningItsBodyIsNotADependencyFailureAndItsRequestLineSays499() throws Exception {
        try (LogCapture logs = new LogCapture()) {
            try (SSLSocket s = connect()) {
                send(
                        s,
                        "POST /api/v1/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                                + "Content-Length: 100\r\n\r\n{\"email\":");
                Thread.sleep(200); // the server is now waiting for the other 91 bytes
            }
            // Background jobs log on their own (the email dispatcher warns once that this test's SMTP
            // port is closed); what is asserted is what the request caused.
            String text = awaitRequestLine(logs)
                    .lines()
                    .filter(line -> !line.contains(" uk.co.tradersflow.email."))
                    .collect(java.util.stream.Collectors.joining("\n"));
            assertThat(text)
                    .contains(
                            "INFO uk.co.tradersflow.platform.http.ProblemResponder - client closed the connection before the answer")
                    .doesNotContain("dependency unavailable", "WARN", "ERROR", "\tat ")
                    .containsPattern("method=POST route=/api/v1/auth/login status=499 ");
        }
    }

    private static String awaitRequestLine(LogCapture logs) throws InterruptedException {
        for (int i = 0; i < 100 && !logs.text().contains(" status="); i++) {
            Thread.sleep(50);
        }
        Thread.sleep(100); // anything logged right after the request line
        return logs.text();
    }

    private static void send(SSLSocket socket, String bytes) throws Exception {
        OutputStream out = socket.getOutputStream();
        out.write(bytes.getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    private static SSLSocket connect() throws Exception {
        SSLContext context = TrustAllTls.context();
        SSLSocket socket = (SSLSocket) context.getSocketFactory()
                .createSocket("localhost", server.config.http().httpsPort());
        socket.setSoTimeout(5000);
        socket.startHandshake();
        return socket;
    }
}
