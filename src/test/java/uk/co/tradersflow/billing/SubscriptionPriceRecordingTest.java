package uk.co.tradersflow.billing;

import static org.assertj.core.api.Assertions.assertThat;
import static uk.co.tradersflow.billing.BillingFixtures.awaitHandled;
import static uk.co.tradersflow.billing.BillingFixtures.deliver;
import static uk.co.tradersflow.billing.BillingFixtures.sql;

import com.stripe.Stripe;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.support.AdminFigures;
import uk.co.tradersflow.support.FakeStripe;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.Sql;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/**
 * A subscription's events record what it charges (its items' prices), so the owners' MRR is a
 * sum over billing rows; and its paid period (when it started paying, when it was cancelled) is
 * recorded whoever changes its status, for churn.
 */
class SubscriptionPriceRecordingTest {
    static final String OWNER = "owner-" + UUID.randomUUID() + "@tradersflow.test";
    static FakeStripe fake;
    static TestServer server;
    static TestUser owner;

    @RegisterExtension
    static final ServerExtension lifecycle = ServerExtension.with(() -> {
                fake = new FakeStripe();
                Map<String, String> s = BillingFixtures.settings(fake);
                s.put("TF_OWNER_EMAILS", OWNER);
                return s;
            })
            .closing(() -> fake)
            .then(s -> server = s);

    @BeforeAll
    static void signIn() {
        owner = new TestUsers(server).create(OWNER, true);
    }

    private static String id() {
        return UUID.randomUUID().toString().replace("-", "").substring(0, 14);
    }

    /** A subscriber whose Stripe subscription is {@code status}, with one item of {@code quantity} at this price. */
    private static TestUser subscribed(
            String customer, String sub, String status, long unitAmount, long quantity, String interval) {
        TestUser u = new TestUsers(server).create();
        sql(
                server,
                "INSERT INTO billing_accounts (account_id, stripe_customer_id) VALUES (?, ?)",
                u.accountId(),
                customer);
        priced(
                fake.subscription(sub, customer, status, 0, Instant.now().getEpochSecond() + 30 * 86400),
                unitAmount,
                quantity,
                interval);
        return u;
    }

    private static void priced(JsonObject sub, long unitAmount, long quantity, String interval) {
        JsonObject item = sub.getJsonObject("items").getJsonArray("data").getJsonObject(0);
        item.put("quantity", quantity)
                .getJsonObject("price")
                .put("unit_amount", unitAmount)
                .put("currency", "gbp")
                .put("type", "recurring")
                .put("recurring", new JsonObject().put("interval", interval).put("interval_count", 1));
    }

    private static void updated(String sub) {
        JsonObject e = FakeStripe.event(
                "customer.subscription.updated", fake.subscriptions.get(sub), null, Stripe.API_VERSION);
        assertThat(deliver(server, e).statusCode()).isEqualTo(200);
        awaitHandled(server, e.getString("id"));
        assertThat(BillingFixtures.eventStatus(server, e.getString("id"))).isEqualTo("processed");
    }

    /** The figures as of now (the summary stored afresh), so the events just handled count. */
    private static JsonObject analytics() {
        return AdminFigures.now(server, owner.token());
    }

    private static Map<String, Object> row(TestUser u) {
        JsonObject r = new JsonObject(Sql.admin()
                .string(
                        "SELECT json_build_object('price_id', price_id, 'amount', price_amount_pence, 'currency', price_currency, "
                                + "'interval', price_interval, 'count', price_interval_count, 'monthly', monthly_pence, "
                                + "'paying', paying_since IS NOT NULL, 'cancelled', cancelled_at IS NOT NULL)::text "
                                + "FROM billing_accounts WHERE account_id = ?",
                        u.accountId()));
        return r.getMap();
    }

    @Test
    void aSubscriptionsPriceIsRecordedFromItsEventsAndCountsInMrrWhilePaid() {
        long mrrBefore = analytics().getLong("mrrPence");
        String monthlyCustomer = "cus_" + id();
        String monthlySub = "sub_" + id();
        TestUser monthly = subscribed(monthlyCustomer, monthlySub, "active", 2500, 2, "month");
        String yearlyCustomer = "cus_" + id();
        String yearlySub = "sub_" + id();
        TestUser yearly = subscribed(yearlyCustomer, yearlySub, "active", 24000, 1, "year");
        String trialCustomer = "cus_" + id();
        String trialSub = "sub_" + id();
        TestUser trial = subscribed(trialCustomer, trialSub, "trialing", 2500, 1, "month");

        updated(monthlySub);
        updated(yearlySub);
        updated(trialSub);

        assertThat(row(monthly))
                .containsEntry("price_id", "price_test")
                .containsEntry("amount", 5000)
                .containsEntry("currency", "gbp")
                .containsEntry("interval", "month")
                .containsEntry("count", 1)
                .containsEntry("monthly", 5000)
                .containsEntry("paying", true)
                .containsEntry("cancelled", false);
        assertThat(row(yearly)).containsEntry("amount", 24000).containsEntry("monthly", 2000);
        assertThat(row(trial)).containsEntry("monthly", 2500).containsEntry("paying", false);
        assertThat(analytics().getLong("mrrPence"))
                .as("the paying subscriptions' monthly amounts; the trial pays nothing yet")
                .isEqualTo(mrrBefore + 5000 + 2000);

        // Cancelled in Stripe: it leaves MRR, and the cancellation is on record.
        long cancellationsBefore = analytics().getJsonObject("churn").getLong("cancellationsInWindow");
        fake.subscriptions.get(monthlySub).put("status", "canceled");
        updated(monthlySub);
        assertThat(row(monthly)).containsEntry("cancelled", true).containsEntry("paying", true);
        JsonObject after = analytics();
        assertThat(after.getLong("mrrPence")).isEqualTo(mrrBefore + 2000);
        assertThat(after.getJsonObject("churn").getLong("cancellationsInWindow"))
                .isEqualTo(cancellationsBefore + 1);
    }

    @Test
    void aPriceWithoutAnAmountIsLeftOutAndTheEventStillApplies() {
        String customer = "cus_" + id();
        String sub = "sub_" + id();
        TestUser u = subscribed(customer, sub, "active", 0, 1, "fortnight");
        fake.subscriptions
                .get(sub)
                .getJsonObject("items")
                .getJsonArray("data")
                .getJsonObject(0)
                .getJsonObject("price")
                .remove("unit_amount");
        updated(sub);
        assertThat(row(u))
                .containsEntry("price_id", "price_test")
                .containsEntry("amount", null)
                .containsEntry("interval", null)
                .containsEntry("monthly", null)
                .containsEntry("paying", true);
    }
}
