package uk.co.tradersflow.billing;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import uk.co.tradersflow.support.Eventually;
import uk.co.tradersflow.support.FakeStripe;
import uk.co.tradersflow.support.InvoiceReplies;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.Sql;
import uk.co.tradersflow.support.TestServer;

/** Shared set-up for the billing tests: server settings pointing at the fake, SQL as superuser, signed deliveries. */
final class BillingFixtures {
    static final String SECRET_OLD = "whsec_old_secret_0123456789";
    static final String SECRET_NEW = "whsec_new_secret_9876543210";
    static final String SECRET_CONNECT = "whsec_connect_secret_abcdef";

    private BillingFixtures() {}

    static Map<String, String> settings(FakeStripe fake) {
        Map<String, String> s = new HashMap<>();
        s.put("TF_STRIPE_SECRET_KEY", "sk_test_fake_key_for_tests");
        s.put("TF_STRIPE_API_BASE", fake.base());
        s.put("TF_STRIPE_WEBHOOK_SECRET", SECRET_OLD + "," + SECRET_NEW + "," + SECRET_CONNECT);
        s.put("TF_STRIPE_PRICE_ID", "price_test_monthly");
        s.put("TF_TRIAL_DAYS", "14");
        s.put("TF_OWNER_EMAILS", "owner@tradersflow.test");
        return s;
    }

    /** The class's server, its Stripe a fake started just before it (handed to {@code started}) and closed after it. */
    static ServerExtension withFakeStripe(Consumer<FakeStripe> started) {
        return ServerExtension.withFakeStripe(started, BillingFixtures::settings);
    }

    /** The account's billing row, naming its Stripe customer (as the first checkout leaves it). */
    static void withCustomer(TestServer server, java.util.UUID account, String customer) {
        sql(server, "INSERT INTO billing_accounts (account_id, stripe_customer_id) VALUES (?, ?)", account, customer);
    }

    static HttpResponse<Buffer> deliver(TestServer server, String body, String signature) {
        var req = server.request(HttpMethod.POST, "/webhooks/stripe").putHeader("Content-Type", "application/json");
        if (signature != null) {
            req.putHeader("Stripe-Signature", signature);
        }
        return TestServer.await(req.sendBuffer(Buffer.buffer(body)));
    }

    static HttpResponse<Buffer> deliver(TestServer server, JsonObject event) {
        String body = event.encode();
        return deliver(server, body, FakeStripe.sign(SECRET_NEW, Instant.now().getEpochSecond(), body));
    }

    /** One statement, committed; an invoice it changes gets its reply rendered first, as the server would. */
    static void sql(TestServer server, String statement, Object... args) {
        try (Connection c = server.env.admin()) {
            InvoiceReplies.write(c, tx -> {
                try (PreparedStatement ps = tx.prepareStatement(statement)) {
                    for (int i = 0; i < args.length; i++) {
                        ps.setObject(i + 1, args[i]);
                    }
                    ps.execute();
                }
            });
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    static Object value(TestServer server, String query, Object... args) {
        return Sql.admin().value(query, args);
    }

    static long count(TestServer server, String query, Object... args) {
        return ((Number) value(server, query, args)).longValue();
    }

    /** Waits (polling the database, at most 10 s) for asynchronous webhook handling to show. */
    static void eventually(String what, BooleanSupplier condition) {
        Eventually.holds(what, Duration.ofSeconds(10), Duration.ofMillis(20), condition);
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static String eventStatus(TestServer server, String id) {
        return (String) value(server, "SELECT status FROM stripe_events WHERE id = ?", id);
    }

    static void awaitHandled(TestServer server, String id) {
        eventually("event " + id + " handled", () -> {
            String s = eventStatus(server, id);
            return "processed".equals(s) || "ignored".equals(s) || "failed".equals(s);
        });
    }

    /** A customer and a draft invoice of {@code totalPence}, created behind the API's back. */
    static UUID invoice(TestServer server, UUID account, String customerEmail, long totalPence) {
        UUID customer = UUID.randomUUID();
        UUID invoice = UUID.randomUUID();
        sql(
                server,
                "INSERT INTO customers (id, account_id, name, email) VALUES (?, ?, ?, ?)",
                customer,
                account,
                "Mrs Customer",
                customerEmail);
        Object next = value(server, "SELECT coalesce(max(number), 0) + 1 FROM invoices WHERE account_id = ?", account);
        sql(
                server,
                "INSERT INTO invoices (id, account_id, number, customer_id, total_pence, due_date) VALUES (?, ?, ?, ?, ?, DATE '2026-12-31')",
                invoice,
                account,
                ((Number) next).intValue(),
                customer,
                totalPence);
        sql(
                server,
                "INSERT INTO invoice_lines (account_id, invoice_id, position, description, quantity, unit_pence) VALUES (?, ?, 0, 'Labour', 1, ?)",
                account,
                invoice,
                totalPence);
        return invoice;
    }

    static String connectReady(TestServer server, FakeStripe fake, UUID account) {
        String acct = "acct_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
        fake.account(acct, true, true);
        sql(
                server,
                "INSERT INTO billing_accounts (account_id, connect_account_id, charges_enabled, payouts_enabled) VALUES (?, ?, true, true) "
                        + "ON CONFLICT (account_id) DO UPDATE SET connect_account_id = EXCLUDED.connect_account_id, charges_enabled = true, payouts_enabled = true",
                account,
                acct);
        return acct;
    }
}
