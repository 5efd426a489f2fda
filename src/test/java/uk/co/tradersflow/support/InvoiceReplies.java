package uk.co.tradersflow.support;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import uk.co.tradersflow.data.invoices.InvoiceReply;

/**
 * For tests that write invoices behind the API's back: renders, with the server's own renderer,
 * the reply of every invoice the connection's open transaction left pending (sql/V029), as the
 * server does before it commits. Without it such a transaction is refused at commit.
 */
public final class InvoiceReplies {
    private InvoiceReplies() {}

    /** Renders what {@code c}'s transaction left pending; the number of invoices rendered. */
    public static int renderPending(Connection c) throws SQLException {
        List<InvoiceReply> pending = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT * FROM invoice_render_pending(NULL)");
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                pending.add(new InvoiceReply(
                        rs.getObject(1, UUID.class),
                        rs.getInt(2),
                        rs.getObject(3, UUID.class),
                        rs.getObject(4, UUID.class),
                        rs.getString(5),
                        rs.getString(6),
                        rs.getString(7),
                        rs.getLong(8),
                        rs.getObject(9, LocalDate.class),
                        rs.getString(10),
                        instant(rs, 11),
                        instant(rs, 12),
                        instant(rs, 13)));
            }
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT * FROM invoice_store_reply(?, ?)")) {
            for (InvoiceReply reply : pending) {
                ps.setObject(1, reply.id());
                ps.setString(2, reply.render());
                ps.executeQuery().close();
            }
        }
        return pending.size();
    }

    /**
     * Runs {@code statement} in a transaction of its own on {@code c} (autocommit), renders what it
     * left pending, and commits.
     */
    public static void write(Connection c, SqlWork statement) throws SQLException {
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(false);
        try {
            statement.run(c);
            renderPending(c);
            c.commit();
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(auto);
        }
    }

    /** A piece of JDBC work. */
    @FunctionalInterface
    public interface SqlWork {
        void run(Connection c) throws SQLException;
    }

    private static java.time.Instant instant(ResultSet rs, int column) throws SQLException {
        OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
        return t == null ? null : t.toInstant();
    }
}
