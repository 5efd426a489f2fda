package uk.co.tradersflow.loadtest;

import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import uk.co.tradersflow.auth.AccessTokens;
import uk.co.tradersflow.auth.PasswordHasher;
import uk.co.tradersflow.auth.RefreshTokens;
import uk.co.tradersflow.config.AppConfig;
import uk.co.tradersflow.config.ConfigLoader;
import uk.co.tradersflow.platform.crypto.ServerKeys;
import uk.co.tradersflow.platform.db.PgUrl;
import uk.co.tradersflow.support.InvoiceReplies;

/**
 * Seeds the load test: N accounts, each with a verified user, a live session, a customer and M
 * invoices of 3 lines, then writes one access token per account (a CSV column {@code token}) for
 * Gatling to feed from. Reads the same settings as the server (TF_* environment,
 * conf/application.yaml), so tokens are signed with the server's key: run it with the same
 * TF_JWT_PRIVATE_KEY or TF_DEV_DATA_DIR as the running server, after the server has migrated.
 *
 * <p>Usage: {@code java -cp target/tradersflow.jar:target/test-classes uk.co.tradersflow.loadtest.LoadSeed
 * [accounts=200] [invoicesPerAccount=30] [out=load-tests/tokens.csv] [options]}. Options add CSV
 * columns: {@code --customer} ({@code customerId}, for creating invoices), {@code --refresh}
 * ({@code refreshToken}, one live refresh token of the account's session), {@code --login}
 * ({@code email,password}: the user gets an Argon2id hash of {@link #PASSWORD} at the server's cost).
 * {@code --growth} seeds in bulk instead ({@link GrowthSeed}: e.g. 10000 accounts x 500 invoices in
 * SQL, tokens for the first [tokens=200] accounts as a 4th argument). Load-test data only: never
 * point it at a production database.
 */
public final class LoadSeed {
    private LoadSeed() {}

    /** The password every seeded user has with {@code --login} (load-test data only). */
    public static final String PASSWORD = "load-test-password-21";

    public static void main(String[] argv) throws Exception {
        List<String> args = new ArrayList<>();
        Set<String> flags = new HashSet<>();
        for (String a : argv) {
            if (a.startsWith("--")) {
                flags.add(a.substring(2));
            } else {
                args.add(a);
            }
        }
        Set<String> known = Set.of("refresh", "login", "customer", "growth");
        if (!known.containsAll(flags)) {
            throw new IllegalArgumentException("unknown option(s) " + flags + "; known: " + known);
        }
        int accounts = args.size() > 0 ? Integer.parseInt(args.get(0)) : 200;
        int invoices = args.size() > 1 ? Integer.parseInt(args.get(1)) : 30;
        Path out = Path.of(args.size() > 2 ? args.get(2) : "load-tests/tokens.csv");
        if (flags.contains("growth")) {
            GrowthSeed.run(accounts, invoices, out, args.size() > 3 ? Integer.parseInt(args.get(3)) : 200);
            return;
        }
        boolean refresh = flags.contains("refresh");
        boolean login = flags.contains("login");
        boolean customer = flags.contains("customer");

        AppConfig config = ConfigLoader.load();
        ServerKeys keys = ServerKeys.resolve(config);
        Vertx vertx = Vertx.vertx();
        try {
            // Tokens live as long as the server allows (TF_ACCESS_TOKEN_TTL_SECONDS): seed just before the run.
            AccessTokens tokens = new AccessTokens(keys, config.auth().accessTokenTtl(), Clock.systemUTC());
            RefreshTokens refreshTokens = new RefreshTokens(keys.urlSigningKey());
            PgUrl admin = PgUrl.parse(config.db().adminUrl());
            List<String> lines = new ArrayList<>();
            lines.add("token" + (customer ? ",customerId" : "") + (refresh ? ",refreshToken" : "")
                    + (login ? ",email,password" : ""));
            // One Argon2id hash at the server's own cost (PasswordHasher), shared by every seeded user.
            String hash = login ? new PasswordHasher(vertx, 1).hash(PASSWORD).await() : null;
            try (Connection c = DriverManager.getConnection(admin.jdbcUrl(), admin.jdbcProperties())) {
                c.setAutoCommit(false);
                for (int i = 0; i < accounts; i++) {
                    UUID account = UUID.randomUUID();
                    UUID user = UUID.randomUUID();
                    UUID session = UUID.randomUUID();
                    UUID customerId = seedAccount(c, account, user, session, invoices);
                    StringBuilder row = new StringBuilder(tokens.mint(user, account, session, Optional.empty()));
                    if (customer) {
                        row.append(',').append(customerId);
                    }
                    if (refresh) {
                        // The session's first refresh token, as the server makes one (under its URL-signing key),
                        // and its secret's hash on the session.
                        byte[] secret = RefreshTokens.newSecret();
                        exec(
                                c,
                                "UPDATE sessions SET refresh_secret_hash = ? WHERE id = ?",
                                RefreshTokens.secretHash(secret),
                                session);
                        String token = refreshTokens.mint(session, 0, secret);
                        row.append(',').append(token);
                    }
                    if (login) {
                        exec(c, "UPDATE users SET password_hash = ? WHERE id = ?", hash, user);
                        row.append(',').append(email(account)).append(',').append(PASSWORD);
                    }
                    lines.add(row.toString());
                }
                // Each invoice's stored reply, rendered by the server's renderer as the server would (sql/V029).
                InvoiceReplies.renderPending(c);
                c.commit();
            }
            Files.createDirectories(out.toAbsolutePath().getParent());
            Files.write(out, lines);
            System.out.printf(
                    "seeded %d accounts x %d invoices; %d tokens written to %s%n", accounts, invoices, accounts, out);
        } finally {
            vertx.close().await();
        }
    }

    static String email(UUID account) {
        return "load-" + account + "@example.test";
    }

    /** Seeds one account; answers its customer's id. */
    static UUID seedAccount(Connection c, UUID account, UUID user, UUID session, int invoices) throws SQLException {
        String tag = account.toString().substring(0, 8);
        exec(c, "INSERT INTO accounts (id, business_name) VALUES (?, ?)", account, "Load " + tag);
        exec(
                c,
                "INSERT INTO users (id, account_id, email, email_verified_at) VALUES (?, ?, ?, now())",
                user,
                account,
                email(account));
        exec(
                c,
                "INSERT INTO sessions (id, account_id, user_id, expires_at) VALUES (?, ?, ?, now() + interval '1 day')",
                session,
                account,
                user);
        UUID customer = UUID.randomUUID();
        exec(
                c,
                "INSERT INTO customers (id, account_id, name, email) VALUES (?, ?, ?, ?)",
                customer,
                account,
                "Customer " + tag,
                "customer-" + tag + "@example.test");
        // Invoices an hour apart, each with three lines; totals as the server would compute them.
        exec(
                c,
                """
        WITH inv AS (
          INSERT INTO invoices (account_id, number, customer_id, status, total_pence, due_date, created_at, updated_at)
          SELECT ?, n, ?, (ARRAY['draft','sent','paid','void'])[1 + n % 4], 4500 * 2 + 1250 + 333 * 3,
                 current_date + 30, now() - make_interval(hours => ? - n), now() - make_interval(hours => ? - n)
            FROM generate_series(1, ?) AS n
          RETURNING id, account_id)
        INSERT INTO invoice_lines (account_id, invoice_id, position, description, quantity, unit_pence)
        SELECT inv.account_id, inv.id, l.position, l.description, l.quantity, l.unit_pence
          FROM inv CROSS JOIN (VALUES (0, 'Labour (hours)', 2.00, 4500), (1, 'Call-out', 1.00, 1250),
                                      (2, 'Copper pipe 15mm (m)', 3.00, 333)) AS l(position, description, quantity, unit_pence)""",
                account,
                customer,
                invoices,
                invoices,
                invoices);
        exec(c, "INSERT INTO invoice_counters (account_id, last_number) VALUES (?, ?)", account, invoices);
        return customer;
    }

    static void exec(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            ps.execute();
        }
    }
}
