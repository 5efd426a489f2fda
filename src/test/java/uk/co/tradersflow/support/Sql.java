package uk.co.tradersflow.support;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Reading and writing rows behind the API's back, in tests: one statement a call, its {@code ?}
 * parameters bound in order ({@code setObject}: a {@link java.util.UUID}, a number, a string,
 * a {@link java.time.OffsetDateTime}). {@link #admin()} runs each call on a connection of its own
 * as the run's superuser and commits it; {@link #on(Connection)} runs on a connection the test
 * holds (a role, a transaction left open). A failing statement throws {@link IllegalStateException}
 * naming it, so set-up reads as a list of statements; a test of what the database refuses keeps
 * its own JDBC and asserts on the {@link SQLException}.
 */
public final class Sql {
    private interface Source {
        Connection open() throws SQLException;

        void done(Connection c) throws SQLException;
    }

    @FunctionalInterface
    private interface Work<T> {
        T run(PreparedStatement ps) throws SQLException;
    }

    private final Source source;

    private Sql(Source source) {
        this.source = source;
    }

    /** As the admin (superuser) of this run's database, a connection a call. */
    public static Sql admin() {
        TestEnvironment env = TestEnvironment.get();
        return new Sql(new Source() {
            @Override
            public Connection open() throws SQLException {
                return env.admin();
            }

            @Override
            public void done(Connection c) throws SQLException {
                c.close();
            }
        });
    }

    /** On a connection the test holds and closes itself (its role, its open transaction). */
    public static Sql on(Connection held) {
        return new Sql(new Source() {
            @Override
            public Connection open() {
                return held;
            }

            @Override
            public void done(Connection c) {
                // the test's own connection: it stays open, in whatever transaction it is in
            }
        });
    }

    /** An INSERT, UPDATE or DELETE: how many rows it changed. */
    public int update(String sql, Object... args) {
        return run(sql, args, PreparedStatement::executeUpdate);
    }

    /** Any statement, its result (if any) ignored: a {@code SELECT some_function(...)}, a {@code SET}. */
    public void execute(String sql, Object... args) {
        run(sql, args, PreparedStatement::execute);
    }

    /** The first column of the first row as JDBC gives it ({@code getObject}); null where there is no row. */
    public Object value(String sql, Object... args) {
        return run(sql, args, ps -> {
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getObject(1) : null;
            }
        });
    }

    /** The first column of the one row a query returns, as a number (a count, a version). */
    public long count(String sql, Object... args) {
        return run(sql, args, ps -> {
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new IllegalStateException("no row: " + sql);
                }
                return rs.getLong(1);
            }
        });
    }

    /** The first column of the first row, as text (null where the value is null); the query must return a row. */
    public String string(String sql, Object... args) {
        return find(sql, args).orElseThrow(() -> new IllegalStateException("no row, or a null value: " + sql));
    }

    /** The first column of the first row as text; empty where there is no row or the value is null. */
    public Optional<String> find(String sql, Object... args) {
        return run(sql, args, ps -> {
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.ofNullable(rs.getString(1)) : Optional.<String>empty();
            }
        });
    }

    /** The first column of every row, as text, in the query's order. */
    public List<String> strings(String sql, Object... args) {
        return run(sql, args, ps -> {
            List<String> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
            return out;
        });
    }

    /** The first column of every row, as text, on a connection the test holds. */
    public static List<String> strings(Connection c, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    private <T> T run(String sql, Object[] args, Work<T> work) {
        try {
            Connection c = source.open();
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                for (int i = 0; i < args.length; i++) {
                    ps.setObject(i + 1, args[i]);
                }
                return work.run(ps);
            } finally {
                source.done(c);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e.getMessage(), e);
        }
    }
}
