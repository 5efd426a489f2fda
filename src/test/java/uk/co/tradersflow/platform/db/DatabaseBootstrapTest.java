package uk.co.tradersflow.platform.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import uk.co.tradersflow.Main;
import uk.co.tradersflow.support.TestEnvironment;
import uk.co.tradersflow.support.TestServer;

/** Start-up's database step waits a bounded time for Postgres, and only when it is unreachable. */
class DatabaseBootstrapTest {

    @Test
    void anUnreachablePostgresIsWaitedForThenReportedInOneClearLine() {
        String url = "postgresql://postgres@127.0.0.1:" + TestServer.freePort() + "/tradersflow";
        DatabaseBootstrap bootstrap = new DatabaseBootstrap(
                PgUrl.parse(url),
                PgUrl.parse(url.replace("postgres@", "tf_app@")),
                PgUrl.parse(url.replace("postgres@", "tf_worker@")));
        long start = System.nanoTime();
        assertThatThrownBy(() -> bootstrap.prepare(true, Main.MIGRATIONS, Duration.ofMillis(1500)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("did not accept connections within")
                .hasMessageContaining("TF_DB_ADMIN_URL");
        assertThat(Duration.ofNanos(System.nanoTime() - start))
                .as("it retried before giving up")
                .isGreaterThan(Duration.ofMillis(500))
                .isLessThan(Duration.ofSeconds(10));
    }

    @Test
    void aFailureOtherThanUnreachabilityIsNotRetried() {
        TestEnvironment env = TestEnvironment.get();
        // Postgres answers, but this role does not exist: retrying cannot help.
        String url = "postgresql://no_such_role_" + System.nanoTime() + "@" + env.pgHost + ":" + env.pgPort + "/"
                + env.database;
        DatabaseBootstrap bootstrap =
                new DatabaseBootstrap(PgUrl.parse(url), PgUrl.parse(env.appUrl()), PgUrl.parse(env.workerUrl()));
        long start = System.nanoTime();
        assertThatThrownBy(() -> bootstrap.prepare(true, Main.MIGRATIONS, Duration.ofSeconds(30)));
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
    }

    @Test
    void aReachablePostgresIsPreparedAndMigratingTwiceIsHarmless() {
        TestEnvironment env = TestEnvironment.get();
        DatabaseBootstrap bootstrap = new DatabaseBootstrap(
                PgUrl.parse(env.adminUrl()), PgUrl.parse(env.appUrl()), PgUrl.parse(env.workerUrl()));
        bootstrap.prepare(true, Main.MIGRATIONS, Duration.ofSeconds(5));
        bootstrap.prepare(true, Main.MIGRATIONS, Duration.ofSeconds(5));
        try (Connection c = env.admin();
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(
                        "SELECT rolname, rolinherit, rolcanlogin, rolpassword LIKE 'SCRAM-SHA-256$%' FROM pg_authid "
                                + "WHERE rolname IN ('tf_app', 'tf_worker') ORDER BY rolname")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getBoolean(2))
                    .as("tf_app inherits no role's privileges")
                    .isFalse();
            assertThat(rs.getBoolean(4))
                    .as("its password is kept as a SCRAM verifier")
                    .isTrue();
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("tf_worker");
            assertThat(rs.getBoolean(3)).as("the worker logs in itself").isTrue();
            assertThat(rs.getBoolean(4))
                    .as("with a password set from its URL, kept as a SCRAM verifier")
                    .isTrue();
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        for (String role : new String[] {"tf_app", "tf_worker"}) {
            try (Connection c = role.equals("tf_app") ? env.asApp() : env.asWorker();
                    Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery("SHOW idle_in_transaction_session_timeout")) {
                rs.next();
                assertThat(rs.getString(1))
                        .as("an abandoned transaction of %s ends, with its locks", role)
                        .isEqualTo("5min");
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
