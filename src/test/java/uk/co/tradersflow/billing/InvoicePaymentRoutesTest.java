package uk.co.tradersflow.billing;

import static io.vertx.core.http.HttpMethod.POST;
import static org.assertj.core.api.Assertions.assertThat;
import static uk.co.tradersflow.billing.BillingFixtures.*;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import uk.co.tradersflow.email.EmailRenderer;
import uk.co.tradersflow.email.EmailTemplate;
import uk.co.tradersflow.support.FakeStripe;
import uk.co.tradersflow.support.TestUsers.TestUser;

class InvoicePaymentRoutesTest extends FakeStripeServerTest {

    private static List<FakeStripe.Request> linksFor(UUID invoice) {
        return fake.requestsWithMetadata("POST", "/v1/payment_links", "tf_invoice_id", invoice);
    }

    @Test
    void paymentLinkIs409UntilOnboardingCompleteThenMadeOnTheConnectedAccountOnce() {
        TestUser u = users.create();
        UUID invoice = invoice(server, u.accountId(), "customer@example.test", 9_999);
        String path = "/api/v1/invoices/" + invoice + "/payment-link";
        HttpResponse<Buffer> early = server.send(POST, path, u.token());
        assertThat(early.statusCode()).isEqualTo(409);
        assertThat(early.bodyAsJsonObject().getString("code")).isEqualTo("connect_not_ready");
        // Connected but not yet able to charge is still not ready.
        sql(
                server,
                "INSERT INTO billing_accounts (account_id, connect_account_id) VALUES (?, 'acct_notready1')",
                u.accountId());
        assertThat(server.send(POST, path, u.token()).bodyAsJsonObject().getString("code"))
                .isEqualTo("connect_not_ready");

        String acct = connectReady(server, fake, u.accountId());
        HttpResponse<Buffer> r = server.send(POST, path, u.token());
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
        String url = r.bodyAsJsonObject().getString("url");
        assertThat(url).startsWith("https://buy.stripe.com/");
        assertThat(server.send(POST, path, u.token()).bodyAsJsonObject().getString("url"))
                .isEqualTo(url);

        assertThat(linksFor(invoice)).hasSize(1);
        FakeStripe.Request req = linksFor(invoice).get(0);
        assertThat(req.stripeAccount()).isEqualTo(acct);
        assertThat(req.idempotencyKey()).isEqualTo("tf-paylink-" + invoice + "-v1");
        assertThat(req.form())
                .containsEntry("line_items[0][price_data][unit_amount]", "9999")
                .containsEntry("line_items[0][price_data][currency]", "gbp")
                .containsEntry("payment_intent_data[metadata][tf_invoice_id]", invoice.toString());
        assertThat(value(server, "SELECT payment_url FROM invoices WHERE id = ?", invoice))
                .isEqualTo(url);
    }

    @Test
    void anInvoiceAboveStripesLargestPaymentGetsAClear409NotA503() {
        TestUser u = users.create();
        connectReady(server, fake, u.accountId());
        UUID invoice =
                invoice(server, u.accountId(), "customer@example.test", InvoicePaymentService.MAX_CARD_PAYMENT + 1);
        HttpResponse<Buffer> r = server.send(POST, "/api/v1/invoices/" + invoice + "/payment-link", u.token());
        assertThat(r.statusCode()).isEqualTo(409);
        assertThat(r.bodyAsJsonObject().getString("detail")).contains("bank transfer");
        assertThat(linksFor(invoice)).isEmpty();
    }

    @Test
    void anotherAccountsInvoiceIs404() {
        TestUser owner = users.create();
        TestUser stranger = users.create();
        connectReady(server, fake, stranger.accountId());
        UUID invoice = invoice(server, owner.accountId(), "customer@example.test", 100);
        assertThat(server.send(POST, "/api/v1/invoices/" + invoice + "/payment-link", stranger.token())
                        .statusCode())
                .isEqualTo(404);
        assertThat(server.send(POST, "/api/v1/invoices/" + invoice + "/send", stranger.token())
                        .statusCode())
                .isEqualTo(404);
    }

    @Test
    void sendingTheSameVersionTwiceQueuesOneEmailWithThePaymentLink() {
        TestUser u = users.create();
        connectReady(server, fake, u.accountId());
        UUID invoice = invoice(server, u.accountId(), "Customer@Example.test", 4_200);
        String path = "/api/v1/invoices/" + invoice + "/send";
        HttpResponse<Buffer> first = server.send(POST, path, u.token());
        assertThat(first.statusCode()).as(first.bodyAsString()).isEqualTo(202);
        assertThat(server.send(POST, path, u.token()).statusCode()).isEqualTo(202);

        assertThat(count(
                        server,
                        "SELECT count(*) FROM email_outbox WHERE account_id = ? AND template = 'invoice'",
                        u.accountId()))
                .isEqualTo(1);
        JsonObject model = new JsonObject((String) value(
                server, "SELECT model::text FROM email_outbox WHERE dedupe_key = ?", "invoice:" + invoice + ":v1"));
        String url = (String) value(server, "SELECT payment_url FROM invoices WHERE id = ?", invoice);
        assertThat(url).startsWith("https://buy.stripe.com/");
        assertThat(model.getString("paymentUrl")).isEqualTo(url);
        assertThat(model.getString("invoiceNumber")).isEqualTo("INV-0001");
        assertThat(model.getLong("totalPence")).isEqualTo(4200);
        assertThat(model.getString("customerName")).isEqualTo("Mrs Customer");
        assertThat(model.getString("dueDate")).isEqualTo("2026-12-31");
        assertThat(model.getJsonArray("lines").getJsonObject(0).getString("description"))
                .isEqualTo("Labour");
        EmailRenderer.Rendered mail =
                new EmailRenderer("https://app.example.test").render(EmailTemplate.INVOICE, model);
        assertThat(mail.text()).contains("Pay securely online").contains(url).doesNotContain("bank details");
        assertThat(mail.html()).contains("href=\"" + url + "\"");
        assertThat(value(
                        server,
                        "SELECT recipient FROM email_outbox WHERE dedupe_key = ?",
                        "invoice:" + invoice + ":v1"))
                .isEqualTo("customer@example.test");
        assertThat(value(server, "SELECT status FROM invoices WHERE id = ?", invoice))
                .isEqualTo("sent");
        assertThat(linksFor(invoice)).hasSize(1);

        // A changed invoice (new version) is a new email with a new link.
        sql(server, "UPDATE invoices SET version = 2, total_pence = 5000 WHERE id = ?", invoice);
        assertThat(server.send(POST, path, u.token()).statusCode()).isEqualTo(202);
        assertThat(count(
                        server,
                        "SELECT count(*) FROM email_outbox WHERE account_id = ? AND template = 'invoice'",
                        u.accountId()))
                .isEqualTo(2);
        assertThat(linksFor(invoice)).hasSize(2);
        assertThat(linksFor(invoice).get(1).idempotencyKey()).isEqualTo("tf-paylink-" + invoice + "-v2");
    }

    @Test
    void withStripeSendingBeforeOnboardingIsStill409AndSendsNothing() {
        TestUser u = users.create();
        UUID invoice = invoice(server, u.accountId(), "customer@example.test", 100);
        HttpResponse<Buffer> r = server.send(POST, "/api/v1/invoices/" + invoice + "/send", u.token());
        assertThat(r.statusCode()).isEqualTo(409);
        assertThat(r.bodyAsJsonObject().getString("code")).isEqualTo("connect_not_ready");
        assertThat(count(server, "SELECT count(*) FROM email_outbox WHERE account_id = ?", u.accountId()))
                .isZero();
        assertThat(value(server, "SELECT status FROM invoices WHERE id = ?", invoice))
                .isEqualTo("draft");
    }

    @Test
    void sendIs422WhenTheCustomerHasNoEmailAndMakesNoLink() {
        TestUser u = users.create();
        connectReady(server, fake, u.accountId());
        UUID invoice = invoice(server, u.accountId(), null, 100);
        HttpResponse<Buffer> r = server.send(POST, "/api/v1/invoices/" + invoice + "/send", u.token());
        assertThat(r.statusCode()).isEqualTo(422);
        assertThat(linksFor(invoice)).isEmpty();
    }
}
