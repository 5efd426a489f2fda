package uk.co.tradersflow.billing;

import static io.vertx.core.http.HttpMethod.PATCH;
import static io.vertx.core.http.HttpMethod.POST;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static uk.co.tradersflow.billing.BillingFixtures.*;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.support.FakeStripe;
import uk.co.tradersflow.support.InvoiceReplies;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/**
 * A payment link stops being payable once it no longer matches its invoice: the database queues
 * it in the transaction that made it stale, and the retirement job deactivates it on the
 * connected account, retrying while Stripe is down, once per link however many instances run.
 */
class PaymentLinkRetirementTest {
    static FakeStripe fake;
    static TestServer server;
    static TestUsers users;
    static PaymentLinkRetirementVerticle job;

    @RegisterExtension
    static final ServerExtension lifecycle = withFakeStripe(started -> fake = started)
            .then(s -> {
                server = s;
                users = new TestUsers(server);
                job = deploy();
            });

    private static PaymentLinkRetirementVerticle deploy() {
        PaymentLinkRetirementVerticle v = new PaymentLinkRetirementVerticle(
                server.main.db(), new StripeGateway(server.vertx, server.config.billing()), Duration.ofHours(1));
        TestServer.await(server.vertx.deployVerticle(v));
        return v;
    }

    private record Linked(TestUser user, String connected, UUID invoice, String linkId, String url) {}

    private static Linked invoiceWithLink(long pence) {
        TestUser u = users.create();
        String acct = connectReady(server, fake, u.accountId());
        UUID invoice = invoice(server, u.accountId(), "customer@example.test", pence);
        HttpResponse<Buffer> r = server.send(POST, "/api/v1/invoices/" + invoice + "/payment-link", u.token());
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
        String url = r.bodyAsJsonObject().getString("url");
        String id = fake.paymentLinks.values().stream()
                .filter(l -> l.getString("url").equals(url))
                .findFirst()
                .orElseThrow()
                .getString("id");
        return new Linked(u, acct, invoice, id, url);
    }

    private static List<FakeStripe.Request> deactivations(String linkId) {
        return fake.requests("POST", "/v1/payment_links/" + linkId);
    }

    private static boolean active(String linkId) {
        return fake.paymentLinks.get(linkId).getBoolean("active");
    }

    private static long queued(String linkId) {
        return count(server, "SELECT count(*) FROM payment_link_retirements WHERE payment_link_id = ?", linkId);
    }

    @Test
    void aNewLinkAcceptsOnePayment() {
        Linked l = invoiceWithLink(1_500);
        FakeStripe.Request created = fake.requests("POST", "/v1/payment_links").stream()
                .filter(r -> l.invoice().toString().equals(r.form().get("metadata[tf_invoice_id]")))
                .findFirst()
                .orElseThrow();
        assertThat(created.form()).containsEntry("restrictions[completed_sessions][limit]", "1");
    }

    @Test
    void editingAnInvoiceDeactivatesItsOldLinkOnTheConnectedAccount() {
        Linked l = invoiceWithLink(2_000);
        HttpResponse<Buffer> edited = server.send(
                PATCH,
                "/api/v1/invoices/" + l.invoice(),
                l.user().token(),
                new JsonObject().put("dueDate", "2027-01-31"));
        assertThat(edited.statusCode()).as(edited.bodyAsString()).isEqualTo(200);
        assertThat(edited.bodyAsJsonObject().getValue("paymentUrl"))
                .as("the old link is no longer offered")
                .isNull();
        assertThat(value(server, "SELECT reason FROM payment_link_retirements WHERE payment_link_id = ?", l.linkId()))
                .isEqualTo("superseded");
        assertThat(active(l.linkId())).isTrue();

        TestServer.await(job.runOnce());

        assertThat(active(l.linkId())).isFalse();
        assertThat(deactivations(l.linkId())).singleElement().satisfies(r -> {
            assertThat(r.stripeAccount()).isEqualTo(l.connected());
            assertThat(r.form()).containsEntry("active", "false");
        });
        assertThat(queued(l.linkId())).isZero();
        assertThat(value(
                        server,
                        "SELECT retired_at IS NOT NULL FROM invoice_payment_links WHERE payment_link_id = ?",
                        l.linkId()))
                .isEqualTo(true);

        // The new version gets a fresh, live link; a further edit does not queue the old one again.
        String fresh = server.send(
                        POST,
                        "/api/v1/invoices/" + l.invoice() + "/payment-link",
                        l.user().token())
                .bodyAsJsonObject()
                .getString("url");
        assertThat(fresh).isNotEqualTo(l.url());
        server.send(
                PATCH,
                "/api/v1/invoices/" + l.invoice(),
                l.user().token(),
                new JsonObject().put("dueDate", "2027-02-28"));
        assertThat(count(
                        server,
                        "SELECT count(*) FROM payment_link_retirements WHERE account_id = ?",
                        l.user().accountId()))
                .as("only the second version's link")
                .isEqualTo(1);
        assertThat(queued(l.linkId())).isZero();
    }

    @Test
    void voidingOrPayingAnInvoiceRetiresItsCurrentLink() {
        Linked voided = invoiceWithLink(3_000);
        HttpResponse<Buffer> r = server.send(
                PATCH,
                "/api/v1/invoices/" + voided.invoice(),
                voided.user().token(),
                new JsonObject().put("status", "void"));
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
        assertThat(value(
                        server,
                        "SELECT reason FROM payment_link_retirements WHERE payment_link_id = ?",
                        voided.linkId()))
                .isEqualTo("void");

        Linked paid = invoiceWithLink(3_100);
        sql(
                server,
                "SELECT * FROM billing_mark_invoice_paid(?, ?, now(), 3100, 'gbp')",
                paid.invoice(),
                paid.connected());
        assertThat(value(server, "SELECT status FROM invoices WHERE id = ?", paid.invoice()))
                .isEqualTo("paid");
        assertThat(value(
                        server, "SELECT reason FROM payment_link_retirements WHERE payment_link_id = ?", paid.linkId()))
                .isEqualTo("paid");

        TestServer.await(job.runOnce());
        assertThat(active(voided.linkId())).isFalse();
        assertThat(active(paid.linkId())).isFalse();
    }

    @Test
    void aLinkSavedAfterItsInvoiceMovedOnIsBornRetired() {
        TestUser u = users.create();
        connectReady(server, fake, u.accountId());
        UUID invoice = invoice(server, u.accountId(), "customer@example.test", 4_000);
        // The Stripe call for version 1 ran while an edit committed version 2: the row arrives late.
        sql(server, "UPDATE invoices SET version = version + 1 WHERE id = ?", invoice);
        sql(
                server,
                "INSERT INTO invoice_payment_links (account_id, invoice_id, invoice_version, payment_link_id, url) "
                        + "VALUES (?, ?, 1, 'plink_late1', 'https://buy.stripe.com/late')",
                u.accountId(),
                invoice);
        assertThat(
                        value(
                                server,
                                "SELECT retired_at IS NOT NULL FROM invoice_payment_links WHERE payment_link_id = 'plink_late1'"))
                .isEqualTo(true);
        assertThat(queued("plink_late1")).isEqualTo(1);
        // The current version's link is born live.
        sql(
                server,
                "INSERT INTO invoice_payment_links (account_id, invoice_id, invoice_version, payment_link_id, url) "
                        + "VALUES (?, ?, 2, 'plink_current1', 'https://buy.stripe.com/current')",
                u.accountId(),
                invoice);
        assertThat(
                        value(
                                server,
                                "SELECT retired_at IS NULL FROM invoice_payment_links WHERE payment_link_id = 'plink_current1'"))
                .isEqualTo(true);
        assertThat(queued("plink_current1")).isZero();
    }

    /** A double-clicked Send saves the same link twice at once: both saves must succeed, not deadlock. */
    @Test
    void twoSavesOfTheSameLinkAtOnceBothSucceed() throws Exception {
        TestUser u = users.create();
        connectReady(server, fake, u.accountId());
        UUID invoice = invoice(server, u.accountId(), "customer@example.test", 4_500);
        String insert =
                "INSERT INTO invoice_payment_links (invoice_id, invoice_version, payment_link_id, url) " + "VALUES ('"
                        + invoice + "', 1, 'plink_twice1', 'https://buy.stripe.com/twice') ON CONFLICT DO NOTHING";
        String setUrl = "UPDATE invoices SET payment_url = 'https://buy.stripe.com/twice' WHERE id = '" + invoice
                + "' AND version = 1";
        try (Connection first = server.env.asAppIn(u.accountId());
                Connection second = server.env.asAppIn(u.accountId())) {
            first.createStatement().execute(insert);
            java.util.concurrent.CompletableFuture<Void> secondSave =
                    java.util.concurrent.CompletableFuture.runAsync(() -> {
                        try (Statement s = second.createStatement()) {
                            s.execute(insert); // waits for the first transaction
                            s.execute(setUrl);
                            InvoiceReplies.renderPending(second); // as the server's save does (sql/V029)
                            second.commit();
                        } catch (SQLException e) {
                            throw new IllegalStateException(e);
                        }
                    });
            server.env.awaitLockWait("plink_twice1");
            first.createStatement().execute(setUrl);
            InvoiceReplies.renderPending(first);
            first.commit();
            secondSave.get(10, java.util.concurrent.TimeUnit.SECONDS);
        }
        assertThat(value(
                        server,
                        "SELECT retired_at IS NULL FROM invoice_payment_links WHERE payment_link_id = 'plink_twice1'"))
                .isEqualTo(true);
    }

    /** An edit that commits while Send waits for Stripe: the email must not carry the link the edit just retired. */
    @Test
    void aSendOvertakenByAnEditIs409AndEmailsNothing() throws Exception {
        TestUser u = users.create();
        connectReady(server, fake, u.accountId());
        UUID invoice = invoice(server, u.accountId(), "customer@example.test", 4_600);
        fake.whileCreatingPaymentLink = () ->
                sql(server, "UPDATE invoices SET version = version + 1, total_pence = 4700 WHERE id = ?", invoice);
        HttpResponse<Buffer> sent;
        try {
            sent = server.send(POST, "/api/v1/invoices/" + invoice + "/send", u.token());
        } finally {
            fake.whileCreatingPaymentLink = () -> {};
        }
        assertThat(sent.statusCode()).as(sent.bodyAsString()).isEqualTo(409);
        assertThat(count(
                        server,
                        "SELECT count(*) FROM email_outbox WHERE dedupe_key LIKE ?",
                        "invoice:" + invoice + "%"))
                .isZero();
        assertThat(count(
                        server,
                        "SELECT count(*) FROM payment_link_retirements WHERE account_id = ? AND reason = 'superseded'",
                        u.accountId()))
                .as("the version-1 link was born retired")
                .isEqualTo(1);
        HttpResponse<Buffer> again = server.send(POST, "/api/v1/invoices/" + invoice + "/send", u.token());
        assertThat(again.statusCode()).as(again.bodyAsString()).isEqualTo(202);
    }

    @Test
    void stripeDownKeepsTheLinkQueuedAndBacksOff() {
        Linked l = invoiceWithLink(5_000);
        sql(server, "UPDATE invoices SET version = version + 1 WHERE id = ?", l.invoice());
        fake.down(true);
        try {
            TestServer.await(job.runOnce());
        } finally {
            fake.down(false);
        }
        assertThat(queued(l.linkId())).isEqualTo(1);
        assertThat(value(
                        server,
                        "SELECT next_attempt_at > now() + interval '30 seconds' FROM payment_link_retirements WHERE payment_link_id = ?",
                        l.linkId()))
                .isEqualTo(true);
        assertThat((String) value(
                        server,
                        "SELECT last_error FROM payment_link_retirements WHERE payment_link_id = ?",
                        l.linkId()))
                .contains("Stripe");
        assertThat(active(l.linkId())).isTrue();

        sql(
                server,
                "UPDATE payment_link_retirements SET next_attempt_at = now() WHERE payment_link_id = ?",
                l.linkId());
        TestServer.await(job.runOnce());
        assertThat(active(l.linkId())).isFalse();
        assertThat(queued(l.linkId())).isZero();
    }

    /** After ten refusals (about 8½ hours of backoff) a link still payable is an alert, once, not just another warning. */
    @Test
    void aLinkStripeKeepsRefusingRaisesAnAlertOnce() {
        Linked l = invoiceWithLink(5_500);
        sql(server, "UPDATE invoices SET version = version + 1 WHERE id = ?", l.invoice());
        sql(
                server,
                "SET ROLE tf_owner; UPDATE payment_link_retirements SET attempts = ? WHERE payment_link_id = ?; RESET ROLE",
                PaymentLinkRetirementVerticle.STUCK_AFTER_ATTEMPTS - 1,
                l.linkId());
        fake.down(true);
        try (uk.co.tradersflow.support.LogCapture logs = new uk.co.tradersflow.support.LogCapture()) {
            TestServer.await(job.runOnce());
            sql(
                    server,
                    "UPDATE payment_link_retirements SET next_attempt_at = now() WHERE payment_link_id = ?",
                    l.linkId());
            TestServer.await(job.runOnce());
            assertThat(logs.text().split(PaymentLinkRetirementVerticle.STUCK_MARKER, -1))
                    .as("raised once")
                    .hasSize(2);
            assertThat(logs.text()).contains(l.linkId());
        } finally {
            fake.down(false);
        }
        assertThat(queued(l.linkId())).as("and still retried").isEqualTo(1);
    }

    @Test
    void aLinkStripeNoLongerHasIsDoneWith() {
        TestUser u = users.create();
        String acct = connectReady(server, fake, u.accountId());
        sql(
                server,
                "SET ROLE tf_owner; INSERT INTO payment_link_retirements (payment_link_id, account_id, connect_account_id, reason) "
                        + "VALUES ('plink_gone1', ?, ?, 'deleted'); RESET ROLE",
                u.accountId(),
                acct);
        TestServer.await(job.runOnce());
        assertThat(queued("plink_gone1")).isZero();
    }

    @Test
    void twoInstancesDeactivateEachLinkOnce() {
        List<String> links = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            Linked l = invoiceWithLink(6_000 + i);
            sql(server, "UPDATE invoices SET version = version + 1 WHERE id = ?", l.invoice());
            links.add(l.linkId());
        }
        PaymentLinkRetirementVerticle other = deploy();
        TestServer.await(Future.all(job.runOnce(), other.runOnce(), job.runOnce(), other.runOnce()));
        for (String link : links) {
            assertThat(deactivations(link)).as(link).hasSize(1);
            assertThat(active(link)).isFalse();
            assertThat(queued(link)).isZero();
        }
    }

    @Test
    void theRuntimeRoleCannotReadOrWriteTheQueue() throws SQLException {
        Linked l = invoiceWithLink(7_000);
        sql(server, "UPDATE invoices SET version = version + 1 WHERE id = ?", l.invoice());
        for (String statement : List.of(
                "SELECT count(*) FROM payment_link_retirements",
                "DELETE FROM payment_link_retirements",
                "INSERT INTO payment_link_retirements (payment_link_id, account_id, connect_account_id, reason) VALUES ('plink_x', gen_random_uuid(), 'acct_x', 'deleted')")) {
            try (Connection c = server.env.asApp();
                    Statement st = c.createStatement()) {
                assertThatThrownBy(() -> st.execute(statement)).as(statement).hasMessageContaining("permission denied");
            }
        }
        assertThat(queued(l.linkId())).isEqualTo(1);
    }
}
