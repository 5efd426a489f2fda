package uk.co.tradersflow.billing;

import static io.vertx.core.http.HttpMethod.POST;
import static org.assertj.core.api.Assertions.assertThat;
import static uk.co.tradersflow.billing.BillingFixtures.count;
import static uk.co.tradersflow.billing.BillingFixtures.invoice;
import static uk.co.tradersflow.billing.BillingFixtures.value;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.GreenMailUtil;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import jakarta.mail.internet.MimeMessage;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.support.LocalSmtp;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/** A tradesperson on a server without Stripe still invoices: the email goes out for bank transfer. */
class InvoiceSendWithoutStripeTest {
    static GreenMail smtp;
    static TestServer server;

    // No TF_STRIPE_* settings at all: billing is off.
    @RegisterExtension
    static final ServerExtension lifecycle = ServerExtension.with(() -> {
                smtp = LocalSmtp.start();
                return LocalSmtp.settings(smtp, Map.of());
            })
            .closing(() -> smtp == null ? null : smtp::stop)
            .then(s -> server = s);

    @Test
    void withoutStripeTheInvoiceIsEmailedWithoutAPaymentLinkAndMarkedSent() throws Exception {
        TestUser u = new TestUsers(server).create();
        // The database is shared with other test classes: a domain of this test's own.
        String domain = UUID.randomUUID() + ".test";
        UUID invoice = invoice(server, u.accountId(), "customer@" + domain, 12_345);

        HttpResponse<Buffer> r = server.send(POST, "/api/v1/invoices/" + invoice + "/send", u.token());
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(202);
        assertThat(r.bodyAsJsonObject().getString("status")).isEqualTo("sent");
        assertThat(r.bodyAsJsonObject().getBoolean("queued")).isTrue();
        assertThat(value(server, "SELECT status FROM invoices WHERE id = ?", invoice))
                .isEqualTo("sent");
        assertThat(value(server, "SELECT payment_url FROM invoices WHERE id = ?", invoice))
                .isNull();
        assertThat(count(server, "SELECT count(*) FROM invoice_payment_links WHERE invoice_id = ?", invoice))
                .isZero();
        JsonObject model = new JsonObject((String) value(
                server, "SELECT model::text FROM email_outbox WHERE dedupe_key = ?", "invoice:" + invoice + ":v1"));
        assertThat(model.getString("paymentUrl")).isNull();

        MimeMessage mail = received(domain);
        String body = GreenMailUtil.getBody(mail);
        assertThat(mail.getSubject()).contains("INV-0001");
        assertThat(body)
                .contains("123.45")
                .contains("bank details")
                .doesNotContain("Pay securely online")
                .doesNotContain("stripe.com");

        // Sending the same version again still sends one email.
        assertThat(server.send(POST, "/api/v1/invoices/" + invoice + "/send", u.token())
                        .statusCode())
                .isEqualTo(202);
        assertThat(count(
                        server,
                        "SELECT count(*) FROM email_outbox WHERE account_id = ? AND template = 'invoice'",
                        u.accountId()))
                .isEqualTo(1);
    }

    @Test
    void withoutStripeThePaymentLinkRouteStillAnswers503BillingNotConfigured() {
        TestUser u = new TestUsers(server).create();
        UUID invoice = invoice(server, u.accountId(), "customer@example.test", 100);
        HttpResponse<Buffer> r = server.send(POST, "/api/v1/invoices/" + invoice + "/payment-link", u.token());
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(r.bodyAsJsonObject().getString("code")).isEqualTo("billing_not_configured");
    }

    private static MimeMessage received(String domain) throws InterruptedException {
        long deadline = System.nanoTime() + 15_000_000_000L;
        MimeMessage[] got = smtp.getReceivedMessagesForDomain(domain);
        while (got.length == 0 && System.nanoTime() < deadline) {
            Thread.sleep(50);
            got = smtp.getReceivedMessagesForDomain(domain);
        }
        assertThat(got).as("the invoice email reaches SMTP").hasSize(1);
        return got[0];
    }
}
