package uk.co.tradersflow.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
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
 * The analytics figures are a summary (V037) the server's job stores every 30 s, so the page reads
 * one row instead of counting 100,000 accounts per request: what is served is never more than
 * {@link AdminService#FIGURES_MAX_AGE} old, and {@code generatedAt} says which moment it describes.
 */
class AdminFiguresSummaryTest {
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

    /** A new account, as a signup makes one (created now). */
    private static UUID signUp() {
        UUID id = UUID.randomUUID();
        Sql.admin().update("INSERT INTO accounts (id, business_name) VALUES (?, 'Summary Ltd')", id);
        return id;
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

    /** The summary made {@code seconds} older than it is, as if its job had not run since. */
    private static void ageSummary(int seconds) {
        assertThat(Sql.admin()
                        .update(
                                "UPDATE admin_figures_summary SET computed_at = computed_at - make_interval(secs => ?)",
                                seconds))
                .isEqualTo(1);
    }

    @Test
    void figuresAreServedFromTheSummaryUntilItIsAMinuteOldThenCountedAfresh() {
        JsonObject stored = AdminFigures.now(server, owner.token());
        signUp();

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
        UUID paying = signUp();
        Sql.admin()
                .update("INSERT INTO billing_accounts (account_id, subscription_status) VALUES (?, 'active')", paying);
        JsonObject before = AdminFigures.now(server, owner.token());
        signUp();
        Sql.admin()
                .update("UPDATE billing_accounts SET subscription_status = 'cancelled' WHERE account_id = ?", paying);

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
}
