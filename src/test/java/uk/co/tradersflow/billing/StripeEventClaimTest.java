package uk.co.tradersflow.billing;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import uk.co.tradersflow.support.ScratchDatabase;
import uk.co.tradersflow.support.Sql;

/**
 * A claim takes at most its batch of due events, however large the backlog and however stale the
 * statistics. The backlog here arrives after an ANALYZE that saw only handled events, as a burst of
 * deliveries after a quiet spell does; planned from those statistics, the claim written as
 * {@code IN (SELECT … LIMIT $1 FOR UPDATE SKIP LOCKED)} re-ran its subquery for every due row and
 * took all of them, in time quadratic in the backlog (load-tests/README.md, "thirteenth sitting").
 * On a database of its own, with no webhook verticle claiming beside the test.
 */
class StripeEventClaimTest {
    private static final int HANDLED = 3_000;
    private static final int DUE = 1_000;
    private static final int BATCH = 20;

    private static ScratchDatabase db;
    private static Connection sql;

    @BeforeAll
    static void backlogAfterAnAnalyzeThatSawNone() throws Exception {
        db = ScratchDatabase.latest();
        sql = db.admin();
        Sql on = Sql.on(sql);
        // Only the ANALYZE below: where autovacuum runs, it would otherwise see the backlog too.
        on.execute("ALTER TABLE stripe_events SET (autovacuum_enabled = off)");
        on.update(
                "INSERT INTO stripe_events (id, type, created, status, processed_at, payload)"
                        + " SELECT 'evt_handled' || n, 'payment_intent.succeeded', now(), 'ignored', now(), '{}'"
                        + " FROM generate_series(1, ?) n",
                HANDLED);
        on.execute("ANALYZE stripe_events");
        for (String type : new String[] {"payment_intent.succeeded", "customer.subscription.updated"}) {
            on.update(
                    "INSERT INTO stripe_events (id, type, created, payload)"
                            + " SELECT 'evt_due_' || replace(?, '.', '_') || n, ?, now(), '{}'"
                            + " FROM generate_series(1, ?) n",
                    type,
                    type,
                    DUE);
        }
    }

    @AfterAll
    static void drop() throws Exception {
        sql.close();
        db.close();
    }

    @Test
    void eachLaneClaimsItsBatchAndNoMoreFromABacklogTheStatisticsHaveNotSeen() throws Exception {
        long claimedBefore = count("status = 'processing'");
        for (String claim : new String[] {StripeEventStore.CLAIM_LOCAL_BATCH, StripeEventStore.CLAIM_STRIPE_BATCH}) {
            Set<String> first = claim(claim);
            Set<String> second = claim(claim);
            assertThat(first).hasSize(BATCH);
            assertThat(second).hasSize(BATCH).doesNotContainAnyElementsOf(first);
        }
        assertThat(count("status = 'processing'") - claimedBefore)
                .as("events claimed by the four claims")
                .isEqualTo(4 * BATCH);
        assertThat(count("attempts > 1")).as("events claimed twice").isZero();
    }

    /**
     * Two claimers at once, as two instances are: the second claims while the first's transaction
     * still holds its batch, and takes other events, none of them claimed twice once both commit.
     */
    @Test
    void aClaimWhileAnotherIsOpenTakesOtherEvents() throws Exception {
        try (Connection first = db.admin();
                Connection second = db.admin()) {
            first.setAutoCommit(false);
            Set<String> held = claim(first, StripeEventStore.CLAIM_LOCAL_BATCH);
            Set<String> other = claim(second, StripeEventStore.CLAIM_LOCAL_BATCH);
            first.commit();
            assertThat(held).hasSize(BATCH);
            assertThat(other).hasSize(BATCH).doesNotContainAnyElementsOf(held);
        }
        assertThat(count("attempts > 1")).as("events claimed twice").isZero();
    }

    private static long count(String where) {
        return Sql.on(sql).count("SELECT count(*) FROM stripe_events WHERE " + where);
    }

    /** One claim in a transaction of its own, committed: the ids it took. */
    private static Set<String> claim(String statement) {
        return claim(sql, statement);
    }

    /** One claim on {@code connection}, in its transaction: the ids it took. */
    private static Set<String> claim(Connection connection, String statement) {
        return new HashSet<>(Sql.on(connection).strings(statement.replace("$1", "?"), BATCH));
    }
}
