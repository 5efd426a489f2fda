package uk.co.tradersflow.email;

import static org.assertj.core.api.Assertions.assertThat;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import jakarta.mail.internet.MimeMessage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import uk.co.tradersflow.support.LocalSmtp;
import uk.co.tradersflow.support.LogCapture;
import uk.co.tradersflow.support.TestClock;
import uk.co.tradersflow.support.TestEmails;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/**
 * The SMTP server down for 10 minutes (issue 22): a real GreenMail, stopped after it has taken
 * mail (so the server's pooled connection to it dies too) and started again on the same port.
 *
 * <p>How the 10 minutes are scaled: what the outage decides by time is read from the server's
 * clock (when a message is due, the backoff of a rejected one), which a {@link TestClock} moves
 * 10 minutes forward in five 2-minute steps; at each step the dispatcher must probe again. Its
 * probes are paced in real time (1, 2, 4, then every 5 s), so a real 10-minute outage is about
 * 120 probes of one message each, each ending as the test's do: the message back in its place,
 * no attempt spent. The alert state does not depend on the length: it is raised at the first
 * refused send and cleared at the first accepted one (Prometheus's {@code for: 5m} then pages at
 * the fifth minute).
 */
class SmtpRestartTest {
    private static final int RECIPIENTS = 3;
    private static final int EMAILS = 12;
    private static final String OWNER = "owner-smtp-restart@tradersflow.test";

    @Test
    void tenMinutesWithoutSmtpKeepEveryEmailQueuedRaiseTheAlertThenSendEachOnceInOrderOfCreation() throws Exception {
        TestClock clock = new TestClock();
        GreenMail smtp = LocalSmtp.start();
        int port = smtp.getSmtp().getPort();
        GreenMail back = null;
        OutboxRows.settleLeftovers();
        Map<String, String> more = new HashMap<>();
        more.put("TF_EMAIL_RETRY_BASE_SECONDS", "1");
        more.put("TF_MAIL_FROM", "TradersFlow <no-reply@tradersflow.test>");
        more.put("TF_OWNER_EMAILS", OWNER);
        try (TestServer server = TestServer.start(LocalSmtp.settings(smtp, more), clock);
                LogCapture logs = new LogCapture()) {
            TestUsers users = new TestUsers(server);
            TestUser user = users.create();
            TestUser owner = users.create(OWNER, true);
            TestEmails emails = new TestEmails(server);
            String domain = UUID.randomUUID() + ".test";

            UUID before = enqueue(emails, user, "before@" + domain, "before");
            assertThat(emails.awaitStatus(before, "sent", 20))
                    .as("sent while SMTP is up")
                    .isTrue();
            assertThat(health(server, owner).getBoolean("alerting")).isFalse();

            smtp.stop();
            List<UUID> ids = new ArrayList<>();
            List<String> recipientOf = new ArrayList<>();
            for (int i = 0; i < EMAILS; i++) {
                String recipient = "r" + (i % RECIPIENTS) + "@" + domain;
                ids.add(enqueue(emails, user, recipient, "outage" + i));
                recipientOf.add(recipient);
            }

            for (int step = 0; step < 5; step++) {
                long claimsBefore = OutboxRows.aggregate(server, ids, "sum(claims)");
                clock.advance(Duration.ofMinutes(2));
                assertThat(OutboxRows.awaitAtLeast(server, ids, "sum(claims)", claimsBefore + 1, 15))
                        .as("the dispatcher keeps probing during the outage")
                        .isGreaterThan(claimsBefore);
                if (step == 0) {
                    assertThat(health(server, owner).getBoolean("alerting"))
                            .as("the email health alert is raised while SMTP is down")
                            .isTrue();
                    assertThat(metrics(server)).contains("tradersflow_email_smtp_unreachable 1.0");
                }
            }

            assertThat(OutboxRows.aggregate(server, ids, "sum(attempts)"))
                    .as("the outage spends no attempt")
                    .isZero();
            assertThat(OutboxRows.aggregate(server, ids, "count(*) FILTER (WHERE status IN ('queued', 'sending'))"))
                    .as("every email waits, none failed")
                    .isEqualTo(EMAILS);
            assertThat(health(server, owner).getBoolean("alerting")).isTrue();
            assertThat(logs.text().split("is unreachable", -1))
                    .as("the outage is logged once, not per email or probe")
                    .hasSize(2);

            back = new GreenMail(new ServerSetup(port, "127.0.0.1", ServerSetup.PROTOCOL_SMTP));
            back.start();
            assertThat(OutboxRows.awaitAtLeast(server, ids, "count(*) FILTER (WHERE status = 'sent')", EMAILS, 30))
                    .isEqualTo(EMAILS);
            Thread.sleep(1_500); // more dispatcher rounds: nothing else may arrive

            List<String> order = new ArrayList<>();
            for (MimeMessage m : back.getReceivedMessagesForDomain(domain)) {
                order.add(m.getHeader("X-TF-Message-Id", null));
            }
            assertThat(order)
                    .as("each delivered exactly once")
                    .doesNotHaveDuplicates()
                    .hasSize(EMAILS);
            assertThat(order.get(0))
                    .as("the first to go out when the server is back is the oldest")
                    .isEqualTo(ids.get(0).toString());
            for (int r = 0; r < RECIPIENTS; r++) {
                String recipient = "r" + r + "@" + domain;
                List<String> created = new ArrayList<>();
                for (int i = 0; i < EMAILS; i++) {
                    if (recipientOf.get(i).equals(recipient)) {
                        created.add(ids.get(i).toString());
                    }
                }
                assertThat(order.stream().filter(created::contains).toList())
                        .as("each recipient gets their email in the order it was created")
                        .isEqualTo(created);
            }
            assertThat(OutboxRows.aggregate(server, ids, "sum(attempts)"))
                    .as("one counted send each")
                    .isEqualTo(EMAILS);

            assertThat(health(server, owner).getBoolean("alerting"))
                    .as("the alert clears once mail goes out again")
                    .isFalse();
            assertThat(metrics(server)).contains("tradersflow_email_smtp_unreachable 0.0");
        } finally {
            smtp.stop();
            if (back != null) {
                back.stop();
            }
        }
    }

    private static UUID enqueue(TestEmails emails, TestUser user, String recipient, String token) {
        return emails.enqueue(
                        user.accountId(),
                        "password_reset",
                        recipient,
                        new JsonObject().put("resetUrl", "https://app.test/reset-password?token=" + token),
                        "smtp-restart:" + UUID.randomUUID())
                .orElseThrow();
    }

    private static JsonObject health(TestServer server, TestUser owner) {
        HttpResponse<Buffer> r = server.send(HttpMethod.GET, "/admin/api/email/health", owner.token());
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
        return r.bodyAsJsonObject();
    }

    private static String metrics(TestServer server) {
        return TestServer.await(server.request(HttpMethod.GET, "/metrics").send())
                .bodyAsString();
    }
}
