package uk.co.tradersflow.email;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Collection;
import java.util.UUID;
import uk.co.tradersflow.support.Sql;
import uk.co.tradersflow.support.TestServer;

/** Reads a set of outbox rows behind the API's back: sums and counts over just these rows. */
final class OutboxRows {
    private OutboxRows() {}

    /**
     * Test classes that run before share this run's database and leave email queued to SMTP ports
     * where nothing listened. Those rows would compete with a test's own for claims and probes (a
     * dispatcher takes the oldest first), so a test that counts its rows' claims marks them failed
     * first. Call it while no server of the calling class runs; classes run one at a time.
     */
    static void settleLeftovers() {
        Sql.admin()
                .execute("DO $$ BEGIN IF to_regclass('email_outbox') IS NOT NULL THEN "
                        + "UPDATE email_outbox SET status = 'failed', lease_until = NULL, last_error = 'left over by an earlier test class' "
                        + "WHERE status IN ('queued', 'sending'); END IF; END $$");
    }

    /** {@code expression} evaluated over the rows, e.g. {@code sum(claims)} or {@code count(*) FILTER (WHERE status = 'sent')}. */
    static long aggregate(TestServer server, Collection<UUID> ids, String expression) {
        try (Connection c = server.env.admin();
                PreparedStatement ps = c.prepareStatement(
                        "SELECT coalesce(" + expression + ", 0) FROM email_outbox WHERE id = ANY(?)")) {
            ps.setArray(1, c.createArrayOf("uuid", ids.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Polls until the aggregate reaches at least {@code atLeast}, for at most the given seconds; the last value. */
    static long awaitAtLeast(TestServer server, Collection<UUID> ids, String expression, long atLeast, int seconds)
            throws InterruptedException {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        long value = aggregate(server, ids, expression);
        while (value < atLeast && System.nanoTime() < deadline) {
            Thread.sleep(100);
            value = aggregate(server, ids, expression);
        }
        return value;
    }
}
