package uk.co.tradersflow.email;

import static org.assertj.core.api.Assertions.assertThat;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.support.LogCapture;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.TestEmails;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/**
 * The SMTP server is down when the email is queued: nothing is lost, no attempt is spent, and it
 * goes out within seconds of the server coming back (issue 23 item 14: with the default 30 s
 * retry base it used to take 53 s), whatever the retry backoff.
 */
class EmailRetryTest {
    static int port;
    static TestServer server;
    static GreenMail smtp;

    @RegisterExtension
    static final ServerExtension lifecycle = ServerExtension.with(() -> {
                port = TestServer.freePort();
                OutboxRows.settleLeftovers();
                // The default retry base (30 s): an outage must not wait for it.
                return Map.of("TF_SMTP_PORT", Integer.toString(port), "TF_SMTP_STARTTLS", "disabled");
            })
            .closing(() -> smtp == null ? null : smtp::stop)
            .then(s -> server = s);

    @Test
    void emailQueuedWhileSmtpIsDownSpendsNoAttemptAndGoesOutWithinSecondsOfItsReturn() throws Exception {
        TestUser user = new TestUsers(server).create();
        TestEmails emails = new TestEmails(server);
        String domain = UUID.randomUUID() + ".test";
        UUID id;
        try (LogCapture logs = new LogCapture()) {
            id = emails.enqueue(
                            user.accountId(),
                            "password_changed",
                            "retry@" + domain,
                            new JsonObject().put("changedAt", "2026-11-25T10:00:00Z"),
                            "pw:" + UUID.randomUUID())
                    .orElseThrow();
            // Probes at 1, 2 and 4 s after the first try: the dispatcher has reached its longest probe interval.
            assertThat(OutboxRows.awaitAtLeast(server, List.of(id), "sum(claims)", 4, 15))
                    .as("probed while down")
                    .isGreaterThanOrEqualTo(4);
            assertThat(emails.column(id, "attempts"))
                    .as("no attempt spent on an outage")
                    .isEqualTo("0");
            assertThat(emails.status(id)).isIn("queued", "sending");
            assertThat(emails.column(id, "last_error")).containsIgnoringCase("connection refused");
            assertThat(logs.text().split("is unreachable", -1))
                    .as("the outage is reported once, not per attempt")
                    .hasSize(2);
        }
        smtp = new GreenMail(new ServerSetup(port, "127.0.0.1", ServerSetup.PROTOCOL_SMTP));
        long back = System.nanoTime();
        smtp.start();
        assertThat(emails.awaitStatus(id, "sent", 20)).isTrue();
        assertThat((System.nanoTime() - back) / 1_000_000)
                .as("sent within seconds of SMTP's return")
                .isLessThan(10_000);
        assertThat(smtp.getReceivedMessagesForDomain(domain))
                .as("delivered once")
                .hasSize(1);
        assertThat(emails.column(id, "attempts")).isEqualTo("1");
    }
}
