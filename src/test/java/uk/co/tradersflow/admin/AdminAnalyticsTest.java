package uk.co.tradersflow.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.support.AdminFigures;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.Sql;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/**
 * {@code GET /admin/api/analytics}, from the database only. The run's database holds other
 * classes' accounts too, so each figure is proved by what rows this class adds change, read once
 * the figures' summary (V037) is stored afresh. What is served is that summary, which the
 * server's job stores every 30 s: never more than {@link AdminService#FIGURES_MAX_AGE} old, and
 * {@code generatedAt} says which moment it describes (the last two tests).
 */
class AdminAnalyticsTest {
    static final String OWNER = "owner-" + UUID.randomUUID() + "@tradersflow.test";
    static TestServer server;
    static TestUser owner;

    @RegisterExtension
    static final ServerExtension lifecycle =
            ServerExtension.with(Map.of("TF_OWNER_EMAILS", OWNER)).then(s -> server = s);

    @BeforeAll
    static void signIn() {
        owner = new TestUsers(server).create(OWNER, true);
    }

    /** The figures as of now (the summary stored afresh): each test proves one by what its rows change. */
    private static JsonObject analytics() {
        return AdminFigures.now(server, owner.token());
    }

    /** An account created {@code daysAgo} days ago (noon UTC that day), in {@code status}. */
    private static UUID account(int daysAgo, String status) {
        UUID id = UUID.randomUUID();
        Sql.admin()
                .update(
                        "INSERT INTO accounts (id, business_name, status, created_at) VALUES (?, 'Figures Ltd', ?, "
                                + "((now() AT TIME ZONE 'UTC')::date - ?)::timestamp AT TIME ZONE 'UTC' + interval '12 hours')",
                        id,
                        status,
                        daysAgo);
        return id;
    }

    /**
     * A billing row in {@code status}, with a price, and its paid period set behind the trigger's
     * back (paying since / cancelled so many days ago; -1 for none).
     */
    private static void billing(
            UUID account,
            String status,
            long amount,
            String currency,
            String interval,
            int payingDaysAgo,
            int cancelledDaysAgo) {
        Sql.admin()
                .update(
                        "INSERT INTO billing_accounts (account_id, subscription_status, price_amount_pence, price_currency, "
                                + "price_interval, price_interval_count) VALUES (?, ?, ?, ?, ?, 1)",
                        account,
                        status,
                        amount,
                        currency,
                        interval);
        Sql.admin()
                .update(
                        "UPDATE billing_accounts SET paying_since = CASE WHEN ? >= 0 THEN now() - ? * interval '1 day' END, "
                                + "cancelled_at = CASE WHEN ? >= 0 THEN now() - ? * interval '1 day' END WHERE account_id = ?",
                        payingDaysAgo,
                        payingDaysAgo,
                        cancelledDaysAgo,
                        cancelledDaysAgo,
                        account);
    }

    private static long dayCount(JsonObject figures, LocalDate day) {
        for (Object o : figures.getJsonObject("signups").getJsonArray("perDay")) {
            JsonObject d = (JsonObject) o;
            if (d.getString("date").equals(day.toString())) {
                return d.getLong("count");
            }
        }
        throw new AssertionError(day + " is not among the days");
    }

    @Test
    void signupsAreCountedPerUtcDayOverThirtyDaysEveryDayPresent() {
        JsonObject before = analytics();
        LocalDate today = LocalDate.now(ZoneOffset.UTC);
        account(10, "active");
        account(10, "active");
        account(10, "closed");
        account(29, "active");
        account(30, "active"); // the day before the window
        JsonObject after = analytics();

        JsonArray days = after.getJsonObject("signups").getJsonArray("perDay");
        assertThat(days).hasSize(30);
        for (int i = 0; i < 30; i++) {
            assertThat(days.getJsonObject(i).getString("date"))
                    .as("consecutive days, oldest first, ending today (UTC)")
                    .isEqualTo(today.minusDays(29 - i).toString());
        }
        assertThat(after.getInteger("windowDays")).isEqualTo(30);
        assertThat(dayCount(after, today.minusDays(10)) - dayCount(before, today.minusDays(10)))
                .isEqualTo(3);
        assertThat(dayCount(after, today.minusDays(29)) - dayCount(before, today.minusDays(29)))
                .isEqualTo(1);
        assertThat(after.getJsonObject("signups").getLong("total")
                        - before.getJsonObject("signups").getLong("total"))
                .isEqualTo(4);
    }

    @Test
    void accountsAndSubscriptionsAreCountedByStatus() {
        JsonObject before = analytics();
        billing(account(100, "active"), "trialing", 1000, "gbp", "month", -1, -1);
        billing(account(100, "active"), "past_due", 1000, "gbp", "month", 50, -1);
        billing(account(100, "suspended"), "active", 1000, "gbp", "month", 50, -1);
        billing(account(100, "active"), "cancelled", 1000, "gbp", "month", 50, 45);
        account(100, "active"); // never subscribed
        billing(account(100, "closed"), "none", 0, "gbp", "month", -1, -1); // a customer, never subscribed
        JsonObject after = analytics();

        JsonObject accounts = after.getJsonObject("accounts");
        JsonObject was = before.getJsonObject("accounts");
        assertThat(accounts.getLong("total") - was.getLong("total")).isEqualTo(6);
        assertThat(accounts.getLong("active") - was.getLong("active")).isEqualTo(4);
        assertThat(accounts.getLong("suspended") - was.getLong("suspended")).isEqualTo(1);
        assertThat(accounts.getLong("closed") - was.getLong("closed")).isEqualTo(1);
        JsonObject subs = after.getJsonObject("subscriptions");
        JsonObject subsWas = before.getJsonObject("subscriptions");
        assertThat(subs.getLong("trialing") - subsWas.getLong("trialing")).isEqualTo(1);
        assertThat(subs.getLong("past_due") - subsWas.getLong("past_due")).isEqualTo(1);
        assertThat(subs.getLong("active") - subsWas.getLong("active")).isEqualTo(1);
        assertThat(subs.getLong("cancelled") - subsWas.getLong("cancelled")).isEqualTo(1);
        assertThat(subs.getLong("none") - subsWas.getLong("none")).isEqualTo(2);
    }

    @Test
    void mrrSumsTheMonthlyAmountsOfSubscriptionsBeingPaidFor() {
        JsonObject before = analytics();
        billing(account(100, "active"), "active", 1999, "gbp", "month", 40, -1);
        billing(account(100, "active"), "past_due", 24000, "gbp", "year", 40, -1); // 2,000 a month
        billing(account(100, "active"), "active", 500, "gbp", "week", 40, -1); // 2,167 a month
        billing(account(100, "active"), "trialing", 1999, "gbp", "month", -1, -1); // pays nothing yet
        billing(account(100, "active"), "cancelled", 1999, "gbp", "month", 40, 3);
        billing(account(100, "active"), "active", 1500, "eur", "month", 40, -1);
        JsonObject after = analytics();

        assertThat(after.getString("currency")).isEqualTo("GBP");
        assertThat(after.getLong("mrrPence") - before.getLong("mrrPence")).isEqualTo(1999 + 2000 + 2167);
        assertThat(after.getJsonObject("mrrByCurrency").getLong("EUR", 0L)
                        - before.getJsonObject("mrrByCurrency").getLong("EUR", 0L))
                .isEqualTo(1500);
    }

    @Test
    void churnIsTheShareOfSubscriptionsPayingAtTheWindowsStartCancelledWithinIt() {
        JsonObject before = analytics().getJsonObject("churn");
        billing(account(200, "active"), "cancelled", 1000, "gbp", "month", 60, 10); // paying at the start, churned
        billing(account(200, "active"), "cancelled", 1000, "gbp", "month", 90, 20); // the same
        billing(account(200, "active"), "active", 1000, "gbp", "month", 60, -1); // paying at the start, stayed
        billing(account(200, "active"), "past_due", 1000, "gbp", "month", 45, -1); // the same
        billing(account(200, "active"), "cancelled", 1000, "gbp", "month", 5, 2); // started within, cancelled within
        billing(account(200, "active"), "cancelled", 1000, "gbp", "month", 90, 40); // cancelled before the window
        billing(account(200, "active"), "cancelled", 1000, "gbp", "month", -1, 4); // a trial that was cancelled
        JsonObject after = analytics().getJsonObject("churn");

        assertThat(after.getLong("payingAtStart") - before.getLong("payingAtStart"))
                .isEqualTo(4);
        assertThat(after.getLong("cancelled") - before.getLong("cancelled")).isEqualTo(2);
        assertThat(after.getLong("cancellationsInWindow") - before.getLong("cancellationsInWindow"))
                .isEqualTo(4);
        assertThat(after.getDouble("rate"))
                .isCloseTo((double) after.getLong("cancelled") / after.getLong("payingAtStart"), within(1e-9));
    }

    @Test
    void thePaidPeriodIsRecordedWhoeverChangesTheStatus() {
        UUID account = account(100, "active");
        Sql.admin().update("INSERT INTO billing_accounts (account_id) VALUES (?)", account);
        String period = "SELECT coalesce(paying_since::text, '-') || ' ' || coalesce(cancelled_at::text, '-') "
                + "FROM billing_accounts WHERE account_id = ?";
        assertThat(Sql.admin().string(period, account)).isEqualTo("- -");
        status(account, "trialing");
        assertThat(Sql.admin().string(period, account)).isEqualTo("- -");
        status(account, "active");
        String started =
                Sql.admin().string("SELECT paying_since::text FROM billing_accounts WHERE account_id = ?", account);
        assertThat(started).isNotNull();
        status(account, "past_due");
        status(account, "active");
        assertThat(Sql.admin().string(period, account))
                .as("a failed payment is not a new period")
                .isEqualTo(started + " -");
        status(account, "cancelled");
        String cancelled =
                Sql.admin().string("SELECT cancelled_at::text FROM billing_accounts WHERE account_id = ?", account);
        assertThat(cancelled).isNotNull();
        status(account, "trialing");
        assertThat(Sql.admin().string(period, account))
                .as("a new trial leaves the last paid period on record")
                .isEqualTo(started + " " + cancelled);
        status(account, "active");
        assertThat(Sql.admin()
                        .string(
                                "SELECT paying_since > ?::timestamptz AND cancelled_at IS NULL FROM billing_accounts "
                                        + "WHERE account_id = ?",
                                started,
                                account))
                .as("paying again after a cancellation starts a new period")
                .isEqualTo("t");
    }

    private static long accounts(JsonObject figures) {
        return figures.getJsonObject("accounts").getLong("total");
    }

    private static long subscriptions(JsonObject figures, String status) {
        return figures.getJsonObject("subscriptions").getLong(status);
    }

    private static Instant generatedAt(JsonObject figures) {
        return Instant.parse(figures.getString("generatedAt"));
    }

    /** The figures' summary made {@code seconds} older than it is, as if its job had not run since. */
    private static void ageSummary(int seconds) {
        assertThat(Sql.admin()
                        .update(
                                "UPDATE admin_figures_summary SET computed_at = computed_at - make_interval(secs => ?)",
                                seconds))
                .isEqualTo(1);
    }

    @Test
    void figuresAreServedFromTheSummaryUntilItIsAMinuteOldThenCountedAfresh() {
        JsonObject stored = analytics();
        account(0, "active");

        JsonObject served = AdminFigures.served(server, owner.token());
        assertThat(served.getString("generatedAt"))
                .as("the summary's own time")
                .isEqualTo(stored.getString("generatedAt"));
        assertThat(accounts(served))
                .as("a signup after the summary was stored is not in it yet")
                .isEqualTo(accounts(stored));

        ageSummary(61);
        JsonObject fresh = AdminFigures.served(server, owner.token());
        assertThat(accounts(fresh))
                .as("past a minute the summary is not served: the figures are counted for the request")
                .isEqualTo(accounts(stored) + 1);
        assertThat(generatedAt(fresh)).isAfter(generatedAt(stored));
    }

    @Test
    void aSignupAndACancellationReachTheFiguresThroughTheServersJobWithinAMinute() throws InterruptedException {
        UUID paying = account(100, "active");
        billing(paying, "active", 1000, "gbp", "month", 40, -1);
        JsonObject before = analytics();
        account(0, "active");
        status(paying, "cancelled");

        // The job offers every 30 s and leaves a summary younger than 20 s alone: 21 s old, the
        // next offer stores it (without this the wait could be up to 50 s).
        ageSummary(21);
        JsonObject served;
        Instant deadline = Instant.now().plus(AdminService.FIGURES_REFRESH).plusSeconds(15);
        do {
            Thread.sleep(250);
            served = AdminFigures.served(server, owner.token());
            assertThat(Duration.between(generatedAt(served), Instant.now()))
                    .as("never served older than a minute")
                    .isLessThanOrEqualTo(AdminService.FIGURES_MAX_AGE);
            assertThat(Instant.now()).as("the job stored the figures anew").isBefore(deadline);
        } while (!generatedAt(served).isAfter(generatedAt(before)));

        assertThat(accounts(served)).isEqualTo(accounts(before) + 1);
        assertThat(subscriptions(served, "active")).isEqualTo(subscriptions(before, "active") - 1);
        assertThat(subscriptions(served, "cancelled")).isEqualTo(subscriptions(before, "cancelled") + 1);
        assertThat(served.getJsonObject("churn").getLong("cancellationsInWindow"))
                .isEqualTo(before.getJsonObject("churn").getLong("cancellationsInWindow") + 1);
    }

    /** The status changed as the webhook handler changes it: as the worker role, in a transaction of its own. */
    private static void status(UUID account, String status) {
        Sql.admin()
                .execute("DO $$ BEGIN SET LOCAL ROLE tf_worker; UPDATE billing_accounts SET subscription_status = '"
                        + status + "' WHERE account_id = '" + account + "'; END $$");
    }
}
