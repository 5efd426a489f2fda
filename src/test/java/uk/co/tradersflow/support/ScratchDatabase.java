package uk.co.tradersflow.support;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;
import org.flywaydb.core.Flyway;
import uk.co.tradersflow.Main;

/**
 * A database of its own beside the run's, for proving what a migration does to data that was
 * already there: migrated to an older version, filled, then migrated on. Dropped on close.
 */
public final class ScratchDatabase implements AutoCloseable {
    private static final AtomicInteger COUNT = new AtomicInteger();

    private final TestEnvironment env = TestEnvironment.get();
    private final String name;

    private ScratchDatabase(String name) {
        this.name = name;
    }

    /** A new database with the migrations up to and including {@code version} applied. */
    public static ScratchDatabase migratedTo(String version) throws SQLException {
        TestEnvironment env = TestEnvironment.get();
        ScratchDatabase db = new ScratchDatabase(env.database + "_scratch" + COUNT.incrementAndGet());
        try (Connection c = env.admin();
                Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + db.name);
        }
        db.migrate(version);
        return db;
    }

    /** A new database with every migration applied: for work that must not touch the run's shared one. */
    public static ScratchDatabase latest() throws SQLException {
        ScratchDatabase db = migratedTo("1");
        db.migrateToLatest();
        return db;
    }

    /** Applies every migration not yet applied. */
    public void migrateToLatest() {
        migrate(null);
    }

    public Connection admin() throws SQLException {
        return env.admin(name);
    }

    /** The admin login's URL for this database, in the form {@code TF_DB_ADMIN_URL} takes. */
    public String adminUrl() {
        return "postgresql://" + env.adminUser + (env.adminPassword.isEmpty() ? "" : ":" + env.adminPassword) + "@"
                + env.pgHost + ":" + env.pgPort + "/" + name;
    }

    /** The runtime login's URL for this database, in the form {@code TF_DB_URL} takes: a server of its own on it. */
    public String appUrl() {
        String shared = env.appUrl();
        return shared.substring(0, shared.lastIndexOf('/') + 1) + name;
    }

    private void migrate(String target) {
        var config = Flyway.configure()
                .dataSource(
                        "jdbc:postgresql://" + env.pgHost + ":" + env.pgPort + "/" + name,
                        env.adminUser,
                        env.adminPassword.isEmpty() ? null : env.adminPassword)
                .locations(Main.MIGRATIONS)
                .cleanDisabled(true);
        if (target != null) {
            config.target(target);
        }
        config.load().migrate();
    }

    @Override
    public void close() throws SQLException {
        try (Connection c = env.admin();
                Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
        }
    }
}
