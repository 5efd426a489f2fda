package uk.co.tradersflow.support;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import java.util.UUID;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.PostgreSQLContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * Where this test run's Postgres and Redis are. With a Docker engine: fresh Testcontainers.
 * Without one (this project's machines): the local services on 127.0.0.1. Either way the run gets
 * a database of its own, created here, migrated once and dropped when the JVM exits, and a
 * Redis key prefix of its own, so concurrent or earlier runs never see each other's leftovers.
 */
public final class TestEnvironment {
    private static TestEnvironment instance;

    public final String pgHost;
    public final int pgPort;
    public final String adminUser;
    public final String adminPassword;
    public final String appPassword;
    public final String database;
    public final String redisUrl;
    public final String redisPrefix;

    private TestEnvironment(String pgHost, int pgPort, String adminUser, String adminPassword, String redisUrl) {
        this.pgHost = pgHost;
        this.pgPort = pgPort;
        this.adminUser = adminUser;
        this.adminPassword = adminPassword;
        this.appPassword = "tf-app-test";
        String run = UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        this.database = "tf_test_" + run;
        this.redisUrl = redisUrl;
        this.redisPrefix = "tf-test-" + run + ":";
    }

    public static synchronized TestEnvironment get() {
        if (instance == null) {
            instance = create();
            instance.createDatabase();
            Runtime.getRuntime().addShutdownHook(new Thread(instance::dropDatabase, "drop-test-database"));
        }
        return instance;
    }

    private static TestEnvironment create() {
        if (!"local".equals(System.getenv("TF_TEST_SERVICES")) && dockerAvailable()) {
            PostgreSQLContainer<?> pg = new PostgreSQLContainer<>(DockerImageName.parse("postgres:16-alpine"))
                    .withUsername("postgres")
                    .withPassword("postgres");
            GenericContainer<?> redis =
                    new GenericContainer<>(DockerImageName.parse("redis:7-alpine")).withExposedPorts(6379);
            pg.start();
            redis.start();
            return new TestEnvironment(
                    pg.getHost(),
                    pg.getMappedPort(5432),
                    "postgres",
                    "postgres",
                    "redis://" + redis.getHost() + ":" + redis.getMappedPort(6379));
        }
        return new TestEnvironment("127.0.0.1", 5432, "postgres", "", "redis://127.0.0.1:6379");
    }

    private static boolean dockerAvailable() {
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException | Error e) {
            return false;
        }
    }

    public String adminUrl() {
        return "postgresql://" + adminUser + (adminPassword.isEmpty() ? "" : ":" + adminPassword) + "@" + pgHost + ":"
                + pgPort + "/" + database;
    }

    public String appUrl() {
        return "postgresql://tf_app:" + appPassword + "@" + pgHost + ":" + pgPort + "/" + database;
    }

    /** The worker's login, as the server derives it from {@link #appUrl()} (same password). */
    public String workerUrl() {
        return "postgresql://tf_worker:" + appPassword + "@" + pgHost + ":" + pgPort + "/" + database;
    }

    /** A JDBC connection as the worker role, which the background jobs log in as. */
    public Connection asWorker() throws SQLException {
        return connect(database, "tf_worker", appPassword);
    }

    /** A JDBC connection as the admin (superuser): for test set-up and for checking rows behind the API's back. */
    public Connection admin() throws SQLException {
        return connect(database, adminUser, adminPassword);
    }

    /** A JDBC connection as the runtime role, to prove what the database itself allows it. */
    public Connection asApp() throws SQLException {
        return connect(database, "tf_app", appPassword);
    }

    /**
     * A runtime-role connection inside a transaction already scoped to {@code account}, as every
     * request's is: for doing by hand, in SQL, what a request could do. Autocommit is off.
     */
    public Connection asAppIn(UUID account) throws SQLException {
        Connection c = asApp();
        c.setAutoCommit(false);
        try (PreparedStatement ps = c.prepareStatement("SELECT set_config('app.account_id', ?, true)")) {
            ps.setString(1, account.toString());
            ps.execute();
        }
        return c;
    }

    /** A JDBC connection as the admin to another database on this run's server (a scratch one). */
    public Connection admin(String otherDatabase) throws SQLException {
        return connect(otherDatabase, adminUser, adminPassword);
    }

    /**
     * Until a session of this run's database waits for a lock in a statement containing
     * {@code queryText}: a race is then set up, not left to timing.
     */
    public void awaitLockWait(String queryText) throws SQLException, InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        try (Connection c = admin();
                PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM pg_stat_activity "
                        + "WHERE datname = current_database() AND wait_event_type = 'Lock' AND strpos(query, ?) > 0")) {
            ps.setString(1, queryText);
            while (System.nanoTime() < deadline) {
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (rs.getInt(1) > 0) {
                        return;
                    }
                }
                Thread.sleep(20);
            }
        }
        throw new AssertionError("no statement containing \"" + queryText + "\" ever waited for a lock");
    }

    private Connection connect(String db, String user, String password) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", user);
        if (!password.isEmpty()) {
            p.setProperty("password", password);
        }
        return DriverManager.getConnection("jdbc:postgresql://" + pgHost + ":" + pgPort + "/" + db, p);
    }

    private void createDatabase() {
        try (Connection c = connect("postgres", adminUser, adminPassword);
                Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + database);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create the test database", e);
        }
    }

    private void dropDatabase() {
        try (Connection c = connect("postgres", adminUser, adminPassword);
                Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
        } catch (SQLException e) {
            // The JVM is exiting; a leftover database is named per run and harmless.
        }
    }
}
