package uk.co.tradersflow.loadtest;

import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import uk.co.tradersflow.auth.AccessTokens;
import uk.co.tradersflow.config.AppConfig;
import uk.co.tradersflow.config.ConfigLoader;
import uk.co.tradersflow.platform.crypto.ServerKeys;
import uk.co.tradersflow.platform.db.PgUrl;
import uk.co.tradersflow.support.InvoiceReplies;

/**
 * The growth seed ({@code LoadSeed ACCOUNTS INVOICES OUT TOKENS --growth}): e.g. 10,000 accounts x
 * 500 invoices of 3 lines (5,000,000 invoices, 15,000,000 lines) in a few set-based statements
 * (generate_series), not one round trip per row, then access tokens for the first TOKENS accounts.
 *
 * <p>One template invoice is written the normal way first (rendered by the server's own renderer,
 * {@link InvoiceReplies}); every bulk invoice's stored reply is that rendering with its own id,
 * number, customer, status, due date and instants put in, so replies are byte-for-byte what the
 * server would have rendered. The bulk statements run with {@code session_replication_role =
 * replica} (the admin connection is a superuser): the rendering triggers of sql/V015 and V029 would
 * otherwise re-render 5M rows one by one. Load-test data only: never point it at a production
 * database.
 */
final class GrowthSeed {
    private GrowthSeed() {}

    static void run(int accounts, int invoices, Path out, int tokenCount) throws Exception {
        AppConfig config = ConfigLoader.load();
        ServerKeys keys = ServerKeys.resolve(config);
        Vertx vertx = Vertx.vertx();
        long started = System.nanoTime();
        try {
            AccessTokens tokens = new AccessTokens(keys, config.auth().accessTokenTtl(), Clock.systemUTC());
            PgUrl admin = PgUrl.parse(config.db().adminUrl());
            List<String> lines = new ArrayList<>();
            lines.add("token");
            try (Connection c = DriverManager.getConnection(admin.jdbcUrl(), admin.jdbcProperties())) {
                c.setAutoCommit(false);
                // 1. The template: one account, one invoice, rendered as the server renders it.
                UUID tAccount = UUID.randomUUID();
                LoadSeed.seedAccount(c, tAccount, UUID.randomUUID(), UUID.randomUUID(), 1);
                InvoiceReplies.renderPending(c);
                c.commit();
                String linesJson;
                String template;
                try (PreparedStatement ps = c.prepareStatement(
                        "SELECT id, customer_id, status, due_date, created_at, updated_at, lines_json::text, body_json "
                                + "FROM invoices WHERE account_id = ?")) {
                    ps.setObject(1, tAccount);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        linesJson = rs.getString(7);
                        template = rs.getString(8)
                                .replace("\"id\":\"" + rs.getObject(1, UUID.class) + "\"", "\"id\":\"@ID@\"")
                                .replace("\"number\":\"INV-0001\"", "\"number\":\"@NUM@\"")
                                .replace(rs.getObject(2, UUID.class).toString(), "@CUST@")
                                .replace("\"status\":\"" + rs.getString(3) + "\"", "\"status\":\"@STATUS@\"")
                                .replace("\"dueDate\":\"" + rs.getObject(4) + "\"", "\"dueDate\":\"@DUE@\"")
                                .replace(
                                        "\"createdAt\":\""
                                                + rs.getObject(5, OffsetDateTime.class)
                                                        .toInstant() + "\"",
                                        "\"createdAt\":\"@CREATED@\"")
                                .replace(
                                        "\"updatedAt\":\""
                                                + rs.getObject(6, OffsetDateTime.class)
                                                        .toInstant() + "\"",
                                        "\"updatedAt\":\"@CREATED@\"");
                    }
                }
                for (String hole : List.of("@ID@", "@NUM@", "@CUST@", "@STATUS@", "@DUE@", "@CREATED@")) {
                    if (!template.contains(hole)) {
                        throw new IllegalStateException(
                                "the rendered reply changed shape; no " + hole + " in " + template);
                    }
                }
                // 2. The bulk, set-based.
                try (Statement st = c.createStatement()) {
                    st.execute("SET LOCAL session_replication_role = replica");
                    st.execute("SET LOCAL synchronous_commit = off");
                    st.execute("CREATE TEMP TABLE growth_accounts ON COMMIT DROP AS SELECT n, gen_random_uuid() AS a, "
                            + "gen_random_uuid() AS u, gen_random_uuid() AS s, gen_random_uuid() AS c "
                            + "FROM generate_series(1, " + accounts + ") AS n");
                    st.execute("INSERT INTO accounts (id, business_name) SELECT a, 'Load ' || n FROM growth_accounts");
                    st.execute("INSERT INTO users (id, account_id, email, email_verified_at) "
                            + "SELECT u, a, 'load-' || a || '@example.test', now() FROM growth_accounts");
                    st.execute("INSERT INTO sessions (id, account_id, user_id, expires_at) "
                            + "SELECT s, a, u, now() + interval '1 day' FROM growth_accounts");
                    st.execute(
                            "INSERT INTO customers (id, account_id, name, email) "
                                    + "SELECT c, a, 'Customer ' || n, 'customer-' || n || '@example.test' FROM growth_accounts");
                    st.execute("INSERT INTO invoice_counters (account_id, last_number) SELECT a, " + invoices
                            + " FROM growth_accounts");
                }
                try (PreparedStatement ps = c.prepareStatement(
                        """
                        INSERT INTO invoices (id, account_id, number, customer_id, status, total_pence, due_date,
                                              created_at, updated_at, lines_json, body_json)
                        SELECT i.id, i.a, i.k, i.c, i.st, 4500 * 2 + 1250 + 333 * 3, current_date + 30, i.ts, i.ts, ?::json,
                               replace(replace(replace(replace(replace(replace(?,
                                 '@ID@', i.id::text), '@NUM@', 'INV-' || lpad(i.k::text, 4, '0')), '@CUST@', i.c::text),
                                 '@STATUS@', i.st), '@DUE@', to_char(current_date + 30, 'YYYY-MM-DD')),
                                 '@CREATED@', to_char(i.ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
                          FROM (SELECT gen_random_uuid() AS id, g.a, g.c, k, (ARRAY['draft','sent','paid','void'])[1 + k % 4] AS st,
                                       date_trunc('second', now()) - make_interval(hours => ? - k) AS ts
                                  FROM growth_accounts g CROSS JOIN generate_series(1, ?) AS k) AS i""")) {
                    ps.setString(1, linesJson);
                    ps.setString(2, template);
                    ps.setInt(3, invoices);
                    ps.setInt(4, invoices);
                    ps.executeUpdate();
                }
                try (Statement st = c.createStatement()) {
                    st.execute(
                            """
                            INSERT INTO invoice_lines (account_id, invoice_id, position, description, quantity, unit_pence)
                            SELECT i.account_id, i.id, l.position, l.description, l.quantity, l.unit_pence
                              FROM invoices i JOIN growth_accounts g ON g.a = i.account_id
                                   CROSS JOIN (VALUES (0, 'Labour (hours)', 2.00, 4500), (1, 'Call-out', 1.00, 1250),
                                                      (2, 'Copper pipe 15mm (m)', 3.00, 333))
                                              AS l(position, description, quantity, unit_pence)""");
                    try (ResultSet rs =
                            st.executeQuery("SELECT a, u, s FROM growth_accounts ORDER BY n LIMIT " + tokenCount)) {
                        while (rs.next()) {
                            lines.add(tokens.mint(
                                    rs.getObject(2, UUID.class),
                                    rs.getObject(1, UUID.class),
                                    rs.getObject(3, UUID.class),
                                    Optional.empty()));
                        }
                    }
                }
                c.commit();
                c.setAutoCommit(true);
                try (Statement st = c.createStatement()) {
                    st.execute(
                            "ANALYZE accounts, users, sessions, customers, invoices, invoice_lines, invoice_counters");
                }
                long total = count(c, "SELECT count(*) FROM invoices");
                Files.createDirectories(out.toAbsolutePath().getParent());
                Files.write(out, lines);
                System.out.printf(
                        "growth seed: %d accounts x %d invoices added in %.0f s; %d invoices in the database; "
                                + "%d tokens written to %s%n",
                        accounts, invoices, (System.nanoTime() - started) / 1e9, total, lines.size() - 1, out);
            }
        } finally {
            vertx.close().await();
        }
    }

    private static long count(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
