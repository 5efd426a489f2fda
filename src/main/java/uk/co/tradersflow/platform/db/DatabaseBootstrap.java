package uk.co.tradersflow.platform.db;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.flywaydb.core.Flyway;
import org.postgresql.PGConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Start-up work that needs the admin connection, done over JDBC before Vert.x serves anything:
 * create the database and the server's roles where the admin connection may, then apply the
 * migrations in {@code sql/}. Runs on the main thread, never on an event loop.
 */
public final class DatabaseBootstrap {
    private static final Logger log = LoggerFactory.getLogger(DatabaseBootstrap.class);

    /** The roles the migrations grant to; they are cluster-wide, so creation is idempotent. */
    public static final String OWNER_ROLE = "tf_owner";

    public static final String APP_ROLE = "tf_app";
    public static final String WORKER_ROLE = "tf_worker";

    private final PgUrl admin;
    private final PgUrl app;
    private final PgUrl worker;

    public DatabaseBootstrap(PgUrl admin, PgUrl app, PgUrl worker) {
        this.admin = admin;
        this.app = app;
        this.worker = worker;
    }

    /**
     * The worker's connection: {@code TF_DB_WORKER_URL} when set, else {@code TF_DB_URL}'s with the
     * user {@value #WORKER_ROLE} (same host, database and password). Sharing the password costs
     * nothing here: the process holds both anyway, and what keeps a request from acting as the
     * worker is that no statement it runs can switch to that role (V017).
     */
    public static PgUrl workerUrl(String appUrl, java.util.Optional<String> workerUrl) {
        return workerUrl.map(PgUrl::parse).orElseGet(() -> PgUrl.parse(appUrl).withUser(WORKER_ROLE));
    }

    /**
     * Creates the database and roles and (if {@code migrate}) applies the migrations, waiting up to
     * {@code patience} for Postgres to accept connections: in a container platform the server often
     * starts before its database. Any other failure, or Postgres still unreachable after that, fails.
     */
    public void prepare(boolean migrate, String location, java.time.Duration patience) {
        long deadline = System.nanoTime() + patience.toNanos();
        long backoffMs = 250;
        while (true) {
            try {
                ensureDatabaseAndRoles();
                if (migrate) {
                    migrate(location);
                }
                return;
            } catch (RuntimeException e) {
                if (!unreachable(e) || System.nanoTime() + backoffMs * 1_000_000 > deadline) {
                    if (unreachable(e)) {
                        throw new IllegalStateException(
                                "PostgreSQL at " + admin.host() + ":" + admin.port()
                                        + " did not accept connections within " + patience.toSeconds()
                                        + " s (TF_DB_ADMIN_URL)",
                                e);
                    }
                    throw e;
                }
                log.warn(
                        "PostgreSQL at {}:{} is not reachable yet; retrying in {} ms",
                        admin.host(),
                        admin.port(),
                        backoffMs);
                try {
                    Thread.sleep(backoffMs);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
                backoffMs = Math.min(backoffMs * 2, 5_000);
            }
        }
    }

    /** Connection refused, DNS not resolving yet, or Postgres starting up: worth waiting for. */
    static boolean unreachable(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.net.ConnectException || t instanceof java.net.UnknownHostException) {
                return true;
            }
            if (t instanceof SQLException sql
                    && sql.getSQLState() != null
                    && (sql.getSQLState().startsWith("08") || sql.getSQLState().equals("57P03"))) {
                return true;
            }
        }
        return false;
    }

    /** Creates the database and roles if missing. A missing privilege is reported, not fatal: they may exist already. */
    public void ensureDatabaseAndRoles() {
        try (Connection c =
                DriverManager.getConnection(admin.withDatabase("postgres").jdbcUrl(), admin.jdbcProperties())) {
            createRoles(c);
            if (!exists(c, "select 1 from pg_database where datname = ?", admin.database())) {
                try (Statement s = c.createStatement()) {
                    s.execute("create database " + quoteIdent(admin.database()));
                }
                log.info("created database {}", admin.database());
            }
        } catch (SQLException e) {
            if (unreachable(e)) {
                throw new IllegalStateException("cannot reach PostgreSQL through TF_DB_ADMIN_URL", e);
            }
            log.warn(
                    "could not create the database or roles through the admin connection ({}); assuming they exist",
                    e.getSQLState());
        }
    }

    private void createRoles(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            if (!exists(c, "select 1 from pg_roles where rolname = ?", OWNER_ROLE)) {
                s.execute("create role " + OWNER_ROLE + " nologin");
            }
            if (!exists(c, "select 1 from pg_roles where rolname = ?", WORKER_ROLE)) {
                s.execute("create role " + WORKER_ROLE + " login nosuperuser nocreatedb nocreaterole nobypassrls");
                log.info("created role {}", WORKER_ROLE);
            }
            if (!exists(c, "select 1 from pg_roles where rolname = ?", APP_ROLE)) {
                s.execute(
                        "create role " + APP_ROLE + " login noinherit nosuperuser nocreatedb nocreaterole nobypassrls");
                log.info("created role {}", APP_ROLE);
            }
            // The passwords come from TF_DB_URL and the worker's URL, so each pool can always log in
            // with what it was given. The driver hashes them (SCRAM) before sending, so the plaintext
            // never appears in a statement that log_statement or an audit extension could record.
            for (PgUrl login : new PgUrl[] {app, worker}) {
                if ((login.user().equals(APP_ROLE) || login.user().equals(WORKER_ROLE))
                        && login.password().isPresent()) {
                    c.unwrap(PGConnection.class)
                            .alterUserPassword(
                                    login.user(), login.password().get().toCharArray(), "scram-sha-256");
                }
            }
        }
    }

    public void migrate(String location) {
        Flyway flyway = Flyway.configure()
                .dataSource(admin.jdbcUrl(), admin.user(), admin.password().orElse(null))
                .locations(location)
                .cleanDisabled(true)
                .load();
        var result = flyway.migrate();
        if (result.migrationsExecuted == 0) {
            log.info(
                    "database schema is up to date (version {})",
                    flyway.info().current() == null
                            ? "none"
                            : flyway.info().current().getVersion());
        } else {
            log.info(
                    "migrations applied: {} (schema version {})",
                    result.migrationsExecuted,
                    result.targetSchemaVersion);
        }
    }

    private static boolean exists(Connection c, String sql, String value) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, value);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    static String quoteIdent(String name) {
        return "\"" + name.replace("\"", "\"\"") + "\"";
    }
}
