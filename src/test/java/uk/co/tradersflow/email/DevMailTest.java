package uk.co.tradersflow.email;

import static io.vertx.core.http.HttpMethod.POST;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import uk.co.tradersflow.support.LogCapture;
import uk.co.tradersflow.support.Sql;
import uk.co.tradersflow.support.TestEmails;
import uk.co.tradersflow.support.TestServer;

/**
 * Development mail (issue 23 item 14): with nothing listening for SMTP, a newcomer signs up,
 * finds the verification link in the log (and the message as an .eml file), verifies, and signs
 * in. The mode's refusal of a production URL is in ConfigLoaderTest.
 */
class DevMailTest {
    private static final String PASSWORD = "correct horse battery staple";
    private static final Pattern LOGGED_TOKEN = Pattern.compile("[?&]token=([A-Za-z0-9_-]+)");

    @Test
    void aNewcomerSignsUpVerifiesFromTheLoggedLinkAndSignsInWithNoMailServer() throws Exception {
        // No SMTP anywhere: the port named is one where nothing listens.
        try (TestServer server = TestServer.start(
                        Map.of("TF_DEV_MAIL", "on", "TF_SMTP_PORT", Integer.toString(TestServer.freePort())));
                LogCapture logs = new LogCapture()) {
            String email = "newcomer-" + UUID.randomUUID() + "@example.test";
            HttpResponse<Buffer> signup = server.signUp(email, PASSWORD);
            assertThat(signup.statusCode()).as(signup.bodyAsString()).isEqualTo(201);

            Path mailDir = server.config.ops().devDataDir().resolve("mail");
            UUID id = awaitOutboxRow(server, email);
            Path eml = mailDir.resolve(id + ".eml");
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (!Files.exists(eml) && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(eml).exists();
            String message = Files.readString(eml, StandardCharsets.ISO_8859_1);
            assertThat(message)
                    .contains("Message-ID: <" + id + "@localhost>")
                    .contains("X-TF-Message-Id: " + id)
                    .containsIgnoringCase("To: " + email)
                    .contains("Subject: ");
            assertThat(new TestEmails(server).awaitStatus(id, "sent", 5)).isTrue();

            String line = logs.text()
                    .lines()
                    .filter(l -> l.contains("dev mail to") && l.contains(email))
                    .findFirst()
                    .orElseThrow();
            assertThat(line)
                    .as("the subject is logged")
                    .containsPattern("\"[^\"]+\"")
                    .contains(eml.getFileName().toString());
            Matcher token = LOGGED_TOKEN.matcher(line);
            assertThat(token.find())
                    .as("the link is logged whole, token included: " + line)
                    .isTrue();

            assertThat(post(server, "/api/v1/auth/verify-email", new JsonObject().put("token", token.group(1)))
                            .statusCode())
                    .isEqualTo(204);
            HttpResponse<Buffer> login = post(
                    server,
                    "/api/v1/auth/login",
                    new JsonObject().put("email", email).put("password", PASSWORD));
            assertThat(login.statusCode()).as(login.bodyAsString()).isEqualTo(200);
        }
    }

    /** Without the mode, a sent email's link never reaches the log: tokens stay out of production logs. */
    @Test
    void withoutDevMailNoLinkIsLogged() throws Exception {
        try (TestServer server = TestServer.start(Map.of("TF_SMTP_PORT", Integer.toString(TestServer.freePort())));
                LogCapture logs = new LogCapture()) {
            String email = "prod-" + UUID.randomUUID() + "@example.test";
            assertThat(server.signUp(email, PASSWORD).statusCode()).isEqualTo(201);
            awaitOutboxRow(server, email);
            // The dispatcher went to SMTP (closed here) rather than to a file: it reports SMTP
            // unreachable. Not this row's claims: while SMTP is down it probes with the oldest
            // message due, which may be another test's in the shared database.
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (uk.co.tradersflow.support.Scrape.of(server).value("tradersflow_email_smtp_unreachable") < 1
                    && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
            assertThat(uk.co.tradersflow.support.Scrape.of(server).value("tradersflow_email_smtp_unreachable"))
                    .as("the dispatcher tried SMTP")
                    .isEqualTo(1.0);
            assertThat(Files.exists(server.config.ops().devDataDir().resolve("mail")))
                    .isFalse();
            assertThat(logs.text()).doesNotContain("dev mail to").doesNotContainPattern("token=(?!\\[REDACTED\\])");
        }
    }

    private static HttpResponse<Buffer> post(TestServer server, String path, JsonObject body) {
        return TestServer.await(server.request(POST, path).sendJsonObject(body));
    }

    private static UUID awaitOutboxRow(TestServer server, String recipient) throws Exception {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (System.nanoTime() < deadline) {
            Object id = Sql.admin()
                    .value("SELECT id FROM email_outbox WHERE recipient = ? AND template = 'verify_email'", recipient);
            if (id != null) {
                return (UUID) id;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no verification email queued for " + recipient);
    }
}
