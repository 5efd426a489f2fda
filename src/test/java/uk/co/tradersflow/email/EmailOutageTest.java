package uk.co.tradersflow.email;

import static org.assertj.core.api.Assertions.assertThat;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import io.vertx.core.json.JsonObject;
import jakarta.mail.internet.MimeMessage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import uk.co.tradersflow.support.LogCapture;
import uk.co.tradersflow.support.TestClock;
import uk.co.tradersflow.support.TestEmails;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/**
 * A long SMTP outage loses nothing (issue 23 item 19): before, every queued email spent its
 * attempts on "connection refused" and was failed, link and all, within about 15 minutes. The
 * server's clock is moved two hours forward while nothing listens on the SMTP port.
 */
class EmailOutageTest {
    private static final int EMAILS = 20;

    @Test
    void twoHoursWithoutSmtpSpendNoAttemptAndEveryEmailIsDeliveredExactlyOnceWhenItReturns() throws Exception {
        TestClock clock = new TestClock();
        int port = TestServer.freePort();
        GreenMail smtp = new GreenMail(new ServerSetup(port, "127.0.0.1", ServerSetup.PROTOCOL_SMTP));
        OutboxRows.settleLeftovers();
        try (TestServer server = TestServer.start(
                        Map.of(
                                "TF_SMTP_PORT",
                                Integer.toString(port),
                                "TF_SMTP_STARTTLS",
                                "disabled",
                                "TF_EMAIL_MAX_ATTEMPTS",
                                "3",
                                "TF_EMAIL_RETRY_BASE_SECONDS",
                                "1",
                                "TF_MAIL_FROM",
                                "TradersFlow <no-reply@tradersflow.test>"),
                        clock);
                LogCapture logs = new LogCapture()) {
            TestUser user = new TestUsers(server).create();
            TestEmails emails = new TestEmails(server);
            String domain = UUID.randomUUID() + ".test";
            List<UUID> ids = new ArrayList<>();
            for (int i = 0; i < EMAILS; i++) {
                ids.add(emails.enqueue(
                                user.accountId(),
                                "password_reset",
                                "outage-" + i + "@" + domain,
                                new JsonObject().put("resetUrl", "https://app.test/reset-password?token=outage" + i),
                                "outage:" + UUID.randomUUID())
                        .orElseThrow());
            }

            // Four half-hour steps; at each, the dispatcher must have tried (probed) again in the new time.
            for (int step = 0; step < 4; step++) {
                long claimsBefore = OutboxRows.aggregate(server, ids, "sum(claims)");
                clock.advance(Duration.ofMinutes(30));
                assertThat(OutboxRows.awaitAtLeast(server, ids, "sum(claims)", claimsBefore + 1, 15))
                        .as("the dispatcher keeps probing during the outage")
                        .isGreaterThan(claimsBefore);
            }

            assertThat(OutboxRows.aggregate(server, ids, "sum(attempts)"))
                    .as("an outage spends no attempt")
                    .isZero();
            assertThat(OutboxRows.aggregate(server, ids, "count(*) FILTER (WHERE status IN ('queued', 'sending'))"))
                    .isEqualTo(EMAILS);
            assertThat(OutboxRows.aggregate(server, ids, "count(*) FILTER (WHERE model->>'resetUrl' IS NOT NULL)"))
                    .as("links kept")
                    .isEqualTo(EMAILS);
            assertThat(logs.text().split("is unreachable", -1))
                    .as("the outage is reported once, not per email")
                    .hasSize(2);

            smtp.start();
            assertThat(OutboxRows.awaitAtLeast(server, ids, "count(*) FILTER (WHERE status = 'sent')", EMAILS, 20))
                    .isEqualTo(EMAILS);
            Thread.sleep(1_500); // more dispatcher rounds: nothing else may arrive

            Map<String, Integer> copies = new HashMap<>();
            for (MimeMessage m : smtp.getReceivedMessagesForDomain(domain)) {
                String id = m.getHeader("X-TF-Message-Id", null);
                copies.merge(id, 1, Integer::sum);
                assertThat(m.getMessageID()).isEqualTo("<" + id + "@tradersflow.test>");
            }
            assertThat(copies).hasSize(EMAILS);
            assertThat(copies.values()).as("each delivered exactly once").containsOnly(1);
            assertThat(OutboxRows.aggregate(server, ids, "sum(attempts)"))
                    .as("one counted send each")
                    .isEqualTo(EMAILS);
        } finally {
            smtp.stop();
        }
    }
}
