package uk.co.tradersflow.retention;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.billing.StripeGateway;
import uk.co.tradersflow.storage.LocalDiskBlobStore;
import uk.co.tradersflow.support.FakeStripe;
import uk.co.tradersflow.support.InvoiceReplies;
import uk.co.tradersflow.support.Multipart;
import uk.co.tradersflow.support.Sql;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/** Closing an account cancels its subscription (until Stripe confirms) and deletes its data and files after 30 days. */
class AccountRetentionTest {

    private static long count(Connection c, String sql, Object... args) throws Exception {
        return Sql.on(c).count(sql, args);
    }

    @Test
    void aClosedAccountsSubscriptionIsCancelledOnceStripeAnswersAndItsDataGoesAfterThirtyDays() throws Exception {
        try (FakeStripe stripe = new FakeStripe();
                TestServer server = TestServer.start(
                        Map.of("TF_STRIPE_SECRET_KEY", "sk_test_retention", "TF_STRIPE_API_BASE", stripe.base()))) {
            TestUser user = new TestUsers(server).create();
            byte[] pdf = "%PDF-1.7\nthe customer's signed quote\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            assertThat(TestServer.await(server.request(
                                            io.vertx.core.http.HttpMethod.POST, "/api/v1/documents", user.token())
                                    .putHeader("Content-Type", Multipart.CONTENT_TYPE)
                                    .sendBuffer(new Multipart()
                                            .file("file", "quote.pdf", "application/pdf", pdf)
                                            .build()))
                            .statusCode())
                    .isEqualTo(201);
            java.nio.file.Path folder =
                    server.config.storage().dir().resolve(user.accountId().toString());
            assertThat(folder).isDirectory();
            String sub = "sub_retention" + System.nanoTime();
            stripe.subscription(sub, "cus_retention", "active", 0, 0);
            String[] customerOf = new String[1];
            try (Connection c = server.env.admin();
                    Statement s = c.createStatement()) {
                String customer = "cus_retention" + System.nanoTime();
                customerOf[0] = customer;
                s.executeUpdate(
                        "INSERT INTO billing_accounts (account_id, stripe_customer_id, subscription_id, subscription_status, connect_account_id) "
                                + "VALUES ('" + user.accountId() + "', '" + customer + "', '" + sub
                                + "', 'active', 'acct_retention1')");
                // Never filed under the account (an event type of no use is ignored), yet about its customer.
                s.executeUpdate(
                        "INSERT INTO stripe_events (id, type, created, status, payload) VALUES ('evt_retention3', 'customer.updated', "
                                + "now(), 'ignored', '{\"data\": {\"object\": {\"id\": \"" + customer
                                + "\", \"name\": \"Mr Soon Deleted\"}}}')");
                // A customer, an invoice with a live payment link, and what Stripe told us about them.
                InvoiceReplies.write(
                        c,
                        tx -> s.executeUpdate("WITH c AS (INSERT INTO customers (account_id, name) VALUES ('"
                                + user.accountId() + "', 'Mr Soon Deleted') RETURNING id), "
                                + "i AS (INSERT INTO invoices (account_id, number, customer_id, total_pence) SELECT '"
                                + user.accountId() + "', 1, id, 500 FROM c RETURNING id) "
                                + "INSERT INTO invoice_payment_links (account_id, invoice_id, invoice_version, payment_link_id, url) "
                                + "SELECT '" + user.accountId()
                                + "', id, 1, 'plink_purged1', 'https://buy.stripe.com/purged' FROM i"));
                s.executeUpdate(
                        "INSERT INTO stripe_events (id, type, created, account_id, payload) VALUES ('evt_retention1', 'customer.updated', now(), '"
                                + user.accountId()
                                + "', '{\"data\": {\"object\": {\"email\": \"soon.deleted@example.test\"}}}')");
                s.executeUpdate(
                        "INSERT INTO stripe_events (id, type, created, connect_account, payload) VALUES ('evt_retention2', "
                                + "'checkout.session.completed', now(), 'acct_retention1', '{\"customer_details\": {\"name\": \"Mr Soon Deleted\"}}')");
                s.executeUpdate(
                        "UPDATE accounts SET status = 'closed', closed_at = now(), delete_after = now() + interval '30 days' WHERE id = '"
                                + user.accountId() + "'");
            }
            AccountRetentionVerticle retention = deployedRetention(server, "test-retention");

            stripe.down(true);
            assertThat(TestServer.await(retention.runOnce())).isZero();
            try (Connection c = server.env.admin()) {
                assertThat(count(
                                c,
                                "SELECT count(*) FROM billing_accounts WHERE account_id = ? AND subscription_status = 'active'",
                                user.accountId()))
                        .as("Stripe down: nothing marked cancelled, tried again next round")
                        .isEqualTo(1);
            }
            stripe.down(false);
            assertThat(TestServer.await(retention.runOnce())).as("not due yet").isZero();
            assertThat(stripe.requests("DELETE", "/v1/subscriptions/" + sub)).hasSize(1);
            assertThat(stripe.requests("DELETE", "/v1/subscriptions/" + sub)
                            .get(0)
                            .idempotencyKey())
                    .isEqualTo("tf-cancel-" + sub);
            try (Connection c = server.env.admin();
                    Statement s = c.createStatement()) {
                assertThat(count(
                                c,
                                "SELECT count(*) FROM billing_accounts WHERE account_id = ? AND subscription_status = 'cancelled'",
                                user.accountId()))
                        .isEqualTo(1);
                assertThat(count(c, "SELECT count(*) FROM customers WHERE account_id = ?", user.accountId()))
                        .as("kept for 30 days")
                        .isEqualTo(1);
                assertThat(folder).as("files kept for 30 days too").isDirectory();
                s.executeUpdate("UPDATE accounts SET delete_after = now() - interval '1 second' WHERE id = '"
                        + user.accountId() + "'");
                // A support sign-in link once made for it (V032): it names the account's user.
                Sql.on(c)
                        .update(
                                "INSERT INTO signin_links (account_id, user_id, action_id, staff_id, staff_role, "
                                        + "token_hash, expires_at) SELECT account_id, id, gen_random_uuid(), "
                                        + "gen_random_uuid(), 'support', sha256(convert_to(id::text, 'UTF8')), now() "
                                        + "FROM users WHERE account_id = ?",
                                user.accountId());
            }
            assertThat(TestServer.await(retention.runOnce())).isEqualTo(1);
            try (Connection c = server.env.admin()) {
                assertThat(count(c, "SELECT count(*) FROM customers WHERE account_id = ?", user.accountId()))
                        .isZero();
                assertThat(count(c, "SELECT count(*) FROM users WHERE account_id = ?", user.accountId()))
                        .isZero();
                assertThat(count(c, "SELECT count(*) FROM documents WHERE account_id = ?", user.accountId()))
                        .isZero();
                assertThat(folder).as("the account's whole storage folder").doesNotExist();
                // Every table that holds rows per account, today's and any added later, is emptied of
                // it, but for the records kept on purpose: the audit chain, the owners' actions, the
                // payment links queued for deactivation and Stripe's events (for dedupe, checked below).
                for (String table : Sql.on(c)
                        .strings(
                                """
                  SELECT c.table_name::text FROM information_schema.columns c
                    JOIN information_schema.tables t USING (table_schema, table_name)
                   WHERE c.table_schema = 'public' AND c.column_name = 'account_id' AND t.table_type = 'BASE TABLE'
                     AND c.table_name NOT IN ('audit_log', 'admin_actions', 'payment_link_retirements', 'stripe_events')
                   ORDER BY 1""")) {
                    assertThat(count(c, "SELECT count(*) FROM " + table + " WHERE account_id = ?", user.accountId()))
                            .as(table)
                            .isZero();
                }
                assertThat(count(
                                c,
                                "SELECT count(*) FROM accounts WHERE id = ? AND business_name = 'deleted account' AND purged_at IS NOT NULL",
                                user.accountId()))
                        .as("an anonymised tombstone remains")
                        .isEqualTo(1);
                assertThat(count(
                                c,
                                "SELECT count(*) FROM audit_log WHERE account_id = ? AND action IN ('subscription.cancelled', 'account.deleted')",
                                user.accountId()))
                        .as("and its audit entries")
                        .isEqualTo(2);
                assertThat(count(
                                c,
                                "SELECT count(*) FROM payment_link_retirements WHERE payment_link_id = 'plink_purged1' AND reason = 'deleted' AND account_id = ?",
                                user.accountId()))
                        .as("its live payment links are queued for deactivation at Stripe")
                        .isEqualTo(1);
                assertThat(count(
                                c,
                                "SELECT count(*) FROM stripe_events WHERE id IN ('evt_retention1', 'evt_retention2', 'evt_retention3') "
                                        + "AND payload::text NOT LIKE '%Soon%' AND payload->>'purged' = 'true'"))
                        .as("Stripe's events about it keep only their id and type, for dedupe")
                        .isEqualTo(3);
            }
            assertThat(stripe.requests("DELETE", "/v1/customers/" + customerOf[0]))
                    .as("its customer at Stripe goes too")
                    .hasSize(1);
            // Stripe goes on sending events about the connected account and the customer after the purge.
            try (Connection c = server.env.asWorker();
                    java.sql.PreparedStatement ps =
                            c.prepareStatement("SELECT stripe_event_store(?, ?, NULL, ?, false, now(), ?::jsonb)")) {
                String[][] late = {
                    {
                        "evt_late_connect" + System.nanoTime(),
                        "account.updated",
                        "acct_retention1",
                        "{\"data\": {\"object\": {\"id\": \"acct_retention1\", \"business_profile\": {\"name\": \"Mr Soon Deleted\"}}}}"
                    },
                    {
                        "evt_late_customer" + System.nanoTime(),
                        "customer.updated",
                        null,
                        "{\"data\": {\"object\": {\"id\": \"" + customerOf[0] + "\", \"name\": \"Mr Soon Deleted\"}}}"
                    }
                };
                for (String[] e : late) {
                    for (int i = 0; i < 4; i++) {
                        ps.setString(i + 1, e[i]);
                    }
                    ps.execute();
                }
            }
            try (Connection c = server.env.admin()) {
                assertThat(count(
                                c,
                                "SELECT count(*) FROM stripe_events WHERE id LIKE 'evt_late_%' AND status = 'ignored' "
                                        + "AND payload::text NOT LIKE '%Soon%' AND payload->>'purged' = 'true'"))
                        .as("events arriving after the purge are kept as id and type only")
                        .isEqualTo(2);
            }
        }
    }

    /**
     * A subscription the billing row never tracked (a second checkout, one whose webhooks never
     * came) would go on charging after the purge, even when the tracked one says cancelled: every
     * live subscription of the customer at Stripe is cancelled first, and ended ones are left alone.
     */
    @Test
    void everyLiveSubscriptionOfTheCustomerIsCancelledBeforeThePurgeTrackedOrNot() throws Exception {
        try (FakeStripe stripe = new FakeStripe();
                TestServer server = TestServer.start(
                        Map.of("TF_STRIPE_SECRET_KEY", "sk_test_retention", "TF_STRIPE_API_BASE", stripe.base()))) {
            TestUser user = new TestUsers(server).create();
            String customer = "cus_untracked" + System.nanoTime();
            String untracked = "sub_untracked" + System.nanoTime();
            String ended = "sub_ended" + System.nanoTime();
            stripe.subscription(untracked, customer, "active", 0, 0);
            stripe.subscription(ended, customer, "canceled", 0, 0);
            // The tracked one was cancelled in the portal; the other, never tracked, is live.
            Sql.admin()
                    .update(
                            "INSERT INTO billing_accounts (account_id, stripe_customer_id, subscription_id, subscription_status) VALUES ('"
                                    + user.accountId() + "', '" + customer + "', '" + ended + "', 'cancelled')");
            closedLongAgo(user.accountId());
            AccountRetentionVerticle retention = deployedRetention(server, "test-retention-3");

            assertThat(TestServer.await(retention.runOnce())).isEqualTo(1);
            assertThat(stripe.requests("DELETE", "/v1/subscriptions/" + untracked))
                    .hasSize(1);
            assertThat(stripe.requests("DELETE", "/v1/subscriptions/" + ended)).isEmpty();
            try (Connection c = server.env.admin()) {
                assertThat(count(c, "SELECT count(*) FROM users WHERE account_id = ?", user.accountId()))
                        .as("then purged")
                        .isZero();
            }
        }
    }

    /** The billing row is the only record of what to cancel: it stays, with all the data, until Stripe confirms. */
    @Test
    void dataStaysPastThirtyDaysUntilStripeConfirmsTheSubscriptionCancelled() throws Exception {
        try (FakeStripe stripe = new FakeStripe();
                TestServer server = TestServer.start(
                        Map.of("TF_STRIPE_SECRET_KEY", "sk_test_retention", "TF_STRIPE_API_BASE", stripe.base()))) {
            TestUser user = new TestUsers(server).create();
            String sub = "sub_overdue" + System.nanoTime();
            stripe.subscription(sub, "cus_overdue", "active", 0, 0);
            Sql.admin()
                    .update(
                            "INSERT INTO billing_accounts (account_id, stripe_customer_id, subscription_id, subscription_status) VALUES ('"
                                    + user.accountId() + "', 'cus_overdue" + System.nanoTime() + "', '" + sub
                                    + "', 'active')");
            Sql.admin()
                    .update("INSERT INTO customers (account_id, name) VALUES ('" + user.accountId()
                            + "', 'Mrs Overdue')");
            closedLongAgo(user.accountId());
            AccountRetentionVerticle retention = deployedRetention(server, "test-retention-2");

            stripe.down(true);
            assertThat(TestServer.await(retention.runOnce())).isZero();
            try (Connection c = server.env.admin()) {
                assertThat(count(c, "SELECT count(*) FROM customers WHERE account_id = ?", user.accountId()))
                        .as("Stripe down on day 31: nothing deleted, the subscription is still to cancel")
                        .isEqualTo(1);
                assertThat(count(c, "SELECT count(*) FROM billing_accounts WHERE account_id = ?", user.accountId()))
                        .isEqualTo(1);
            }
            stripe.down(false);
            assertThat(TestServer.await(retention.runOnce())).isEqualTo(1);
            assertThat(stripe.requests("DELETE", "/v1/subscriptions/" + sub)).isNotEmpty();
            try (Connection c = server.env.admin()) {
                assertThat(count(c, "SELECT count(*) FROM customers WHERE account_id = ?", user.accountId()))
                        .isZero();
            }
        }
    }

    /** A retention job of the test's own on {@code server}, deployed, with its own worker pool. */
    private static AccountRetentionVerticle deployedRetention(TestServer server, String workerPool) {
        AccountRetentionVerticle retention = new AccountRetentionVerticle(
                server.main.db(),
                new LocalDiskBlobStore(server.config.storage().dir()),
                server.vertx.createSharedWorkerExecutor(workerPool),
                new StripeGateway(server.vertx, server.config.billing()),
                new AuditLog(server.vertx.eventBus()),
                Duration.ofHours(1));
        TestServer.await(server.vertx.deployVerticle(retention));
        return retention;
    }

    /** Closed 31 days ago, its deletion due a day ago. */
    private static void closedLongAgo(java.util.UUID account) {
        Sql.admin()
                .update("UPDATE accounts SET status = 'closed', closed_at = now() - interval '31 days', "
                        + "delete_after = now() - interval '1 day' WHERE id = '" + account + "'");
    }
}
