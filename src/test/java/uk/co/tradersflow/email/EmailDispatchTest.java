package uk.co.tradersflow.email;

import static org.assertj.core.api.Assertions.assertThat;
import static uk.co.tradersflow.support.LocalSmtp.part;

import com.icegreen.greenmail.util.GreenMail;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import jakarta.mail.Multipart;
import jakarta.mail.internet.MimeMessage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.support.LocalSmtp;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.Sql;
import uk.co.tradersflow.support.TestEmails;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

class EmailDispatchTest {
    static GreenMail smtp;
    static TestServer server;
    static TestEmails emails;
    static TestUser user;

    @RegisterExtension
    static final ServerExtension lifecycle = LocalSmtp.server(started -> smtp = started)
            .then(s -> {
                server = s;
                emails = new TestEmails(server);
                user = new TestUsers(server).create();
            });

    @BeforeEach
    void clearMailbox() throws Exception {
        smtp.purgeEmailFromAllMailboxes();
    }

    /**
     * The database is shared by every test class of the run, so other classes' queued email may
     * be delivered here too: each test writes to a domain of its own and reads only that.
     */
    static String address(String name) {
        return name + "@" + UUID.randomUUID() + ".test";
    }

    static MimeMessage[] receivedFor(String domain, int count, int seconds) throws InterruptedException {
        return LocalSmtp.receivedFor(smtp, domain, count, seconds);
    }

    private static MimeMessage only(String recipient) throws InterruptedException {
        MimeMessage[] received = receivedFor(recipient.substring(recipient.indexOf('@') + 1), 1, 10);
        assertThat(received).hasSize(1);
        return received[0];
    }

    @Test
    void queuedEmailIsDeliveredWithOurHeadersAndBothParts() throws Exception {
        String to = address("delivery");
        UUID id = emails.enqueue(
                        user.accountId(),
                        "password_reset",
                        to,
                        new JsonObject().put("link", "https://app.test/reset-password?token=abc"),
                        "reset:" + UUID.randomUUID())
                .orElseThrow();
        MimeMessage message = only(to);
        assertThat(message.getHeader("X-TF-Message-Id")[0]).isEqualTo(id.toString());
        assertThat(message.getHeader("Message-ID")[0]).isEqualTo("<" + id + "@tradersflow.test>");
        assertThat(message.getHeader("List-Unsubscribe"))
                .as("security email carries no unsubscribe")
                .isNull();
        assertThat(message.getSubject()).isEqualTo("Reset your TradersFlow password");
        assertThat(message.getContent()).isInstanceOf(Multipart.class);
        assertThat(part(message, "text/plain"))
                .contains("Choose a new password: https://app.test/reset-password?token=abc");
        // Mustache escapes '=' in values as &#61;, which a browser reads back as '=' in the href.
        assertThat(part(message, "text/html")).contains("<a href=\"https://app.test/reset-password?token&#61;abc\">");
        assertThat(emails.awaitStatus(id, "sent", 5)).isTrue();
        assertThat(emails.column(id, "attempts")).isEqualTo("1");
    }

    @Test
    void aCustomerNameWithMarkupArrivesAsTextAndTheInvoiceMayBeUnsubscribedFrom() throws Exception {
        String to = address("escape");
        emails.enqueue(
                user.accountId(),
                "invoice",
                to,
                new JsonObject()
                        .put("businessName", "Sparks & Co")
                        .put("customerName", "<script>alert(1)</script>")
                        .put("invoiceNumber", "INV-0007")
                        .put("totalPence", 12345)
                        .put("currency", "GBP")
                        .put("paymentUrl", "https://pay.test/x")
                        .put(
                                "lines",
                                new JsonArray()
                                        .add(new JsonObject()
                                                .put("description", "<b>Labour</b>")
                                                .put("quantity", 2)
                                                .put("unitPence", 4500))),
                "invoice:" + UUID.randomUUID());
        MimeMessage message = only(to);
        String html = part(message, "text/html");
        assertThat(html)
                .doesNotContain("<script>")
                .contains("&lt;script&gt;")
                .doesNotContain("<b>Labour</b>")
                .contains("&lt;b&gt;Labour");
        assertThat(html).contains("123.45 GBP").contains("45.00");
        assertThat(part(message, "text/plain"))
                .contains("Hello <script>alert(1)</script>,")
                .contains("123.45 GBP");
        assertThat(message.getSubject()).isEqualTo("Invoice INV-0007 from Sparks & Co");
        assertThat(message.getHeader("List-Unsubscribe")[0]).startsWith("<mailto:unsubscribe@tradersflow.test");
    }

    @Test
    void theSameDedupeKeyQueuedConcurrentlySendsOnce() throws Exception {
        String to = address("dedupe");
        String key = "verify:" + UUID.randomUUID();
        EmailOutbox outbox = new EmailOutbox(server.vertx.eventBus());
        List<Future<Optional<UUID>>> attempts = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            attempts.add(server.main
                    .db()
                    .inAccount(
                            user.accountId(),
                            tx -> outbox.enqueue(
                                    tx,
                                    OutgoingEmail.of(
                                            "verify_email",
                                            to,
                                            new JsonObject()
                                                    .put("businessName", "B")
                                                    .put("link", "https://x.test"),
                                            key,
                                            user.accountId()))));
        }
        TestServer.await(Future.join(attempts));
        long queued = attempts.stream()
                .filter(f -> f.succeeded() && f.result().isPresent())
                .count();
        assertThat(queued).as("exactly one enqueue wins").isEqualTo(1);
        String domain = to.substring(to.indexOf('@') + 1);
        assertThat(receivedFor(domain, 1, 10)).hasSize(1);
        Thread.sleep(1_500); // two more dispatcher polls: nothing else may arrive
        assertThat(smtp.getReceivedMessagesForDomain(domain)).hasSize(1);
    }

    @Test
    void twoDispatchersShareTheWorkAndNeverSendOneRowTwice() throws Exception {
        EmailRenderer renderer =
                new EmailRenderer(server.config.links().publicUrl().toString());
        EmailHealth health = new EmailHealth(server.main.db(), Duration.ofHours(1), 0.05, Optional.empty());
        String second = TestServer.await(server.vertx.deployVerticle(new EmailDispatchVerticle(
                server.config.email(),
                server.main.db(),
                renderer,
                health,
                Duration.ofSeconds(1),
                java.time.Clock.systemUTC())));
        try {
            int count = 60;
            String domain = UUID.randomUUID() + ".bulk.test";
            Set<UUID> ids = new HashSet<>();
            for (int i = 0; i < count; i++) {
                ids.add(emails.enqueue(
                                user.accountId(),
                                "signin_alert",
                                "many-" + i + "@" + domain,
                                new JsonObject()
                                        .put("ip", "198.51.100.7")
                                        .put("userAgent", "test")
                                        .put("at", "now"),
                                "bulk:" + UUID.randomUUID())
                        .orElseThrow());
            }
            assertThat(receivedFor(domain, count, 20)).hasSize(count);
            Thread.sleep(1_500);
            MimeMessage[] received = smtp.getReceivedMessagesForDomain(domain);
            assertThat(received).hasSize(count);
            Set<String> messageIds = new HashSet<>();
            for (MimeMessage m : received) {
                messageIds.add(m.getHeader("X-TF-Message-Id")[0]);
            }
            assertThat(messageIds).hasSize(count).allMatch(s -> ids.contains(UUID.fromString(s)));
        } finally {
            TestServer.await(server.vertx.undeploy(second));
        }
    }

    @Test
    void aSuppressedAddressGetsNoEmailAndTheAttemptIsLoggedSuppressed() throws Exception {
        String to = address("suppressed");
        Sql.admin()
                .update("INSERT INTO email_suppressions (address, reason, source) VALUES ('" + to
                        + "', 'complained', 'test')");
        UUID id = emails.enqueue(
                        user.accountId(),
                        "trial_ending",
                        to,
                        new JsonObject().put("trialEnd", "2026-12-01"),
                        "trial:" + UUID.randomUUID())
                .orElseThrow();
        assertThat(emails.awaitStatus(id, "suppressed", 10)).isTrue();
        assertThat(smtp.getReceivedMessagesForDomain(to.substring(to.indexOf('@') + 1)))
                .isEmpty();
        assertThat(Sql.admin().string("SELECT model::text FROM email_outbox WHERE id = ?", id))
                .as("a message never to be sent keeps no links")
                .isEqualTo("{}");
    }

    @Test
    void anUnknownTemplateFailsAtOnceInsteadOfRetrying() {
        String to = address("unknown-template");
        UUID id = emails.enqueue(user.accountId(), "no_such_template", to, new JsonObject(), "bad:" + UUID.randomUUID())
                .orElseThrow();
        assertThat(emails.awaitStatus(id, "failed", 10)).isTrue();
        assertThat(smtp.getReceivedMessagesForDomain(to.substring(to.indexOf('@') + 1)))
                .isEmpty();
    }
}
