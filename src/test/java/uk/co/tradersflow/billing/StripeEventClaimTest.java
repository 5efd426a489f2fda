package uk.co.tradersflow.billing;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import uk.co.tradersflow.support.ScratchDatabase;

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
        try (Statement s = sql.createStatement()) {
            s.execute("INSERT INTO stripe_events (id, type, created, status, processed_at, payload)"
                    + " SELECT 'evt_handled' || n, 'payment_intent.succeeded', now(), 'ignored', now(), '{}'"
                    + " FROM generate_series(1, " + HANDLED + ") n");
            s.execute("ANALYZE stripe_events");
            for (String type : new String[] {"payment_intent.succeeded", "customer.subscription.updated"}) {
                s.execute("INSERT INTO stripe_events (id, type, created, payload)"
                        + " SELECT 'evt_due_' || replace('" + type + "', '.', '_') || n, '" + type + "', now(), '{}'"
                        + " FROM generate_series(1, " + DUE + ") n");
            }
        }
    }

    @AfterAll
    static void drop() throws Exception {
        sql.close();
        db.close();
    }

    @Test
    void eachLaneClaimsItsBatchAndNoMoreFromABacklogTheStatisticsHaveNotSeen() throws Exception {
        for (String claim : new String[] {StripeEventStore.CLAIM_LOCAL_BATCH, StripeEventStore.CLAIM_STRIPE_BATCH}) {
            Set<String> first = claim(claim);
            Set<String> second = claim(claim);
            assertThat(first).hasSize(BATCH);
            assertThat(second).hasSize(BATCH).doesNotContainAnyElementsOf(first);
        }
        try (Statement s = sql.createStatement();
                ResultSet r = s.executeQuery(
                        "SELECT count(*) FILTER (WHERE status = 'processing'), count(*) FILTER (WHERE attempts > 1)"
                                + " FROM stripe_events")) {
            r.next();
            assertThat(r.getInt(1)).as("events claimed in all").isEqualTo(4 * BATCH);
            assertThat(r.getInt(2)).as("events claimed twice").isZero();
        }
    }

    /** One claim in a transaction of its own, committed: the ids it took. */
    private static Set<String> claim(String statement) throws Exception {
        Set<String> ids = new HashSet<>();
        try (PreparedStatement p = sql.prepareStatement(statement.replace("$1", "?"))) {
            p.setInt(1, BATCH);
            try (ResultSet r = p.executeQuery()) {
                while (r.next()) {
                    ids.add(r.getString("id"));
                }
            }
        }
        return ids;
    }
}
