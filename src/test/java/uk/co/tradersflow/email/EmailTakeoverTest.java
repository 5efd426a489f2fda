package uk.co.tradersflow.email;

import static org.assertj.core.api.Assertions.assertThat;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import jakarta.mail.internet.MimeMessage;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/**
 * An instance dies while sending (issue 23 item 20): before, its claims lasted a fixed 2 minutes
 * (the survivor took over after 117 s). Now a live dispatcher renews its claims, and a dead one's
 * are taken over within 15 s; a message that was on the wire goes out at most once more, with
 * the same Message-ID, and every message goes out.
 */
class EmailTakeoverTest {
    private static final int EMAILS = 8;
    private static final String FROM = "TradersFlow <no-reply@tradersflow.test>";

    @Test
    void aDeadDispatchersEmailsAreTakenOverWithin15SecondsWithAtMostOneDuplicatePerConnectionMidSend()
            throws Exception {
        GreenMail smtp = new GreenMail(new ServerSetup(TestServer.freePort(), "127.0.0.1", ServerSetup.PROTOCOL_SMTP));
        smtp.start();
        // The doomed instance's mail server takes each whole message and never answers: it dies mid-send.
        SmtpFaultProxy proxy = new SmtpFaultProxy(smtp.getSmtp().getPort());
        proxy.swallowFinalReply = true;
        TestServer doomed = null;
        TestServer survivor = null;
        try {
            OutboxRows.settleLeftovers(); // the doomed instance must claim this test's emails, no others
            doomed = TestServer.start(Map.of(
                    "TF_SMTP_PORT",
                    Integer.toString(proxy.port),
                    "TF_SMTP_STARTTLS",
                    "disabled",
                    "TF_MAIL_FROM",
                    FROM));
            TestUser user = new TestUsers(doomed).create();
            String domain = UUID.randomUUID() + ".test";
            // One transaction, so that the doomed dispatcher claims all of them in one round.
            EmailOutbox outbox = new EmailOutbox(doomed.vertx.eventBus());
            List<UUID> ids = new ArrayList<>();
            TestServer.await(doomed.main.db().inAccount(user.accountId(), tx -> {
                Future<Void> chain = Future.succeededFuture();
                for (int i = 0; i < EMAILS; i++) {
                    OutgoingEmail email = OutgoingEmail.of(
                            "password_reset",
                            "takeover-" + i + "@" + domain,
                            new JsonObject().put("resetUrl", "https://app.test/reset-password?token=t" + i),
                            "takeover:" + UUID.randomUUID(),
                            user.accountId());
                    chain = chain.compose(v -> outbox.enqueue(tx, email)
                            .map(id -> ids.add(id.orElseThrow()))
                            .mapEmpty());
                }
                return chain;
            }));
            assertThat(OutboxRows.awaitAtLeast(doomed, ids, "count(*) FILTER (WHERE status = 'sending')", EMAILS, 15))
                    .isEqualTo(EMAILS);
            long claimed = System.nanoTime();
            long deadline = claimed + 15_000_000_000L;
            while (proxy.swallowed.get() < 4 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            int midSend = proxy.swallowed.get();
            assertThat(midSend)
                    .as("every connection of the doomed instance is mid-send")
                    .isEqualTo(4);

            survivor = TestServer.start(Map.of(
                    "TF_SMTP_PORT",
                    Integer.toString(smtp.getSmtp().getPort()),
                    "TF_SMTP_STARTTLS",
                    "disabled",
                    "TF_MAIL_FROM",
                    FROM));
            // While the doomed instance lives, its heartbeat keeps its claims past a whole lease.
            long leasePassed =
                    claimed + EmailDispatchVerticle.LEASE.plusSeconds(2).toNanos();
            while (System.nanoTime() < leasePassed) {
                Thread.sleep(100);
            }
            assertThat(OutboxRows.aggregate(survivor, ids, "count(*) FILTER (WHERE status = 'sending')"))
                    .as("a live instance's claims are left alone")
                    .isEqualTo(EMAILS);

            long died = System.nanoTime();
            doomed.kill();
            doomed = null;
            assertThat(OutboxRows.awaitAtLeast(survivor, ids, "count(*) FILTER (WHERE status = 'sent')", EMAILS, 30))
                    .isEqualTo(EMAILS);
            long takeoverMillis = (System.nanoTime() - died) / 1_000_000;
            System.out.println("EmailTakeoverTest: all sent " + takeoverMillis + " ms after the death");
            assertThat(takeoverMillis)
                    .as("taken over and sent within 15 s of the death")
                    .isLessThanOrEqualTo(15_000);
            Thread.sleep(1_500); // more rounds: nothing else may arrive

            Map<String, Integer> copies = new HashMap<>();
            for (MimeMessage m : smtp.getReceivedMessagesForDomain(domain)) {
                String id = m.getHeader("X-TF-Message-Id", null);
                copies.merge(id, 1, Integer::sum);
                assertThat(m.getMessageID())
                        .as("one Message-ID per outbox row, whoever sends it")
                        .isEqualTo("<" + id + "@tradersflow.test>");
            }
            assertThat(copies.keySet()).hasSize(EMAILS);
            assertThat(copies.values()).as("never more than one extra copy").allMatch(n -> n <= 2);
            assertThat(copies.values().stream().filter(n -> n == 2).count())
                    .as("duplicates only of what was on the wire")
                    .isLessThanOrEqualTo(midSend);
        } finally {
            if (doomed != null) {
                doomed.close();
            }
            if (survivor != null) {
                survivor.close();
            }
            proxy.close();
            smtp.stop();
        }
    }
}
