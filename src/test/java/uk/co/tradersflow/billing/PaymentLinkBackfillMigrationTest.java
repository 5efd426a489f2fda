package uk.co.tradersflow.billing;

import static org.assertj.core.api.Assertions.assertThat;
import static uk.co.tradersflow.support.Sql.strings;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import uk.co.tradersflow.support.ScratchDatabase;

/**
 * V011 also deals with what was already stale before it ran: a database at V010 with superseded,
 * paid-for and current links and a purged account's Stripe events, migrated on, queues exactly the
 * stale links and reduces the purged account's payloads.
 */
class PaymentLinkBackfillMigrationTest {
    @Test
    void linksAlreadyStaleAndPayloadsAlreadyPurgedAreHandledByTheMigration() throws SQLException {
        try (ScratchDatabase db = ScratchDatabase.migratedTo("10")) {
            UUID live = UUID.randomUUID();
            UUID purged = UUID.randomUUID();
            try (Connection c = db.admin();
                    Statement s = c.createStatement()) {
                s.execute("INSERT INTO accounts (id, business_name) VALUES ('" + live + "', 'Live Ltd')");
                s.execute("INSERT INTO accounts (id, business_name, status, purged_at) VALUES ('" + purged
                        + "', 'deleted account', 'closed', now())");
                s.execute("INSERT INTO billing_accounts (account_id, connect_account_id, charges_enabled) VALUES ('"
                        + live + "', 'acct_backfill1', true)");
                s.execute("INSERT INTO customers (id, account_id, name) VALUES ('" + live + "', '" + live
                        + "', 'Mrs Backfill')");
                invoiceWithLinks(s, live, 1, "sent", 2, "plink_old_v1", "plink_current_v2");
                invoiceWithLinks(s, live, 2, "paid", 1, "plink_paid_v1");
                s.execute(
                        "INSERT INTO stripe_events (id, type, created, account_id, status, payload) VALUES ('evt_backfill1', "
                                + "'customer.updated', now(), '" + purged
                                + "', 'failed', '{\"data\": {\"object\": {\"email\": \"gone@example.test\"}}}')");
            }

            db.migrateToLatest();

            try (Connection c = db.admin()) {
                assertThat(strings(
                                c, "SELECT payment_link_id || ':' || reason FROM payment_link_retirements ORDER BY 1"))
                        .containsExactly("plink_old_v1:superseded", "plink_paid_v1:paid");
                assertThat(strings(c, "SELECT payment_link_id FROM invoice_payment_links WHERE retired_at IS NULL"))
                        .containsExactly("plink_current_v2");
                assertThat(strings(
                                c,
                                "SELECT status || ':' || (payload->>'purged') || ':' || (payload::text LIKE '%gone@%')::text "
                                        + "FROM stripe_events WHERE id = 'evt_backfill1'"))
                        .containsExactly("ignored:true:false");
            }
        }
    }

    /** An invoice at {@code version} with a link for each given id, the first for version 1, the next for 2, and so on. */
    private static void invoiceWithLinks(
            Statement s, UUID account, int number, String status, int version, String... links) throws SQLException {
        UUID invoice = UUID.randomUUID();
        s.execute("INSERT INTO invoices (id, account_id, number, customer_id, total_pence, status, version) VALUES ('"
                + invoice + "', '" + account + "', " + number + ", '" + account + "', 1000, '" + status + "', "
                + version + ")");
        for (int i = 0; i < links.length; i++) {
            s.execute(
                    "INSERT INTO invoice_payment_links (account_id, invoice_id, invoice_version, payment_link_id, url) VALUES ('"
                            + account + "', '" + invoice + "', " + (i + 1) + ", '" + links[i]
                            + "', 'https://buy.stripe.com/" + links[i] + "')");
        }
    }
}
