package uk.co.tradersflow.support;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The test SQL helper, on a table of its own in the run's database (no server needed). */
class SqlTest {
    static final String TABLE =
            "sql_helper_test_" + UUID.randomUUID().toString().replace("-", "");

    @BeforeAll
    static void createTable() {
        Sql.admin().execute("CREATE TABLE " + TABLE + " (id uuid PRIMARY KEY, name text, at timestamptz)");
    }

    @AfterAll
    static void dropTable() {
        Sql.admin().execute("DROP TABLE " + TABLE);
    }

    @Test
    void theAdminCommitsEachStatementWithItsParametersBoundInOrder() {
        UUID first = UUID.randomUUID();
        UUID second = UUID.randomUUID();
        OffsetDateTime at = OffsetDateTime.of(2026, 12, 6, 9, 0, 0, 0, ZoneOffset.UTC);
        assertThat(Sql.admin()
                        .update(
                                "INSERT INTO " + TABLE + " (id, name, at) VALUES (?, ?, ?), (?, ?, ?)",
                                first,
                                "first",
                                at,
                                second,
                                null,
                                null))
                .isEqualTo(2);

        assertThat(Sql.admin().count("SELECT count(*) FROM " + TABLE + " WHERE at = ?", at))
                .isEqualTo(1);
        assertThat(Sql.admin().string("SELECT name FROM " + TABLE + " WHERE id = ?", first))
                .isEqualTo("first");
        assertThat(Sql.admin().value("SELECT id FROM " + TABLE + " WHERE name = ?", "first"))
                .isEqualTo(first);
        assertThat(Sql.admin().find("SELECT name FROM " + TABLE + " WHERE id = ?", second))
                .as("a null value")
                .isEmpty();
        assertThat(Sql.admin().find("SELECT name FROM " + TABLE + " WHERE id = ?", UUID.randomUUID()))
                .as("no row")
                .isEmpty();
        assertThat(Sql.admin().value("SELECT name FROM " + TABLE + " WHERE id = ?", UUID.randomUUID()))
                .as("no row")
                .isNull();
        assertThat(Sql.admin()
                        .strings(
                                "SELECT coalesce(name, '-') FROM " + TABLE
                                        + " WHERE id IN (?, ?) ORDER BY name NULLS FIRST",
                                first,
                                second))
                .containsExactly("-", "first");
        assertThatThrownBy(() -> Sql.admin().string("SELECT name FROM " + TABLE + " WHERE id = ?", second))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("no row, or a null value");
    }

    @Test
    void onAHeldConnectionStatementsStayInItsTransactionAndTheConnectionStaysOpen() throws SQLException {
        UUID id = UUID.randomUUID();
        try (Connection c = TestEnvironment.get().admin()) {
            c.setAutoCommit(false);
            Sql.on(c).update("INSERT INTO " + TABLE + " (id, name) VALUES (?, 'uncommitted')", id);
            assertThat(Sql.on(c).count("SELECT count(*) FROM " + TABLE + " WHERE id = ?", id))
                    .as("inside the transaction")
                    .isEqualTo(1);
            assertThat(Sql.admin().count("SELECT count(*) FROM " + TABLE + " WHERE id = ?", id))
                    .as("outside it")
                    .isZero();
            assertThat(c.isClosed()).isFalse();
            c.rollback();
        }
        assertThat(Sql.admin().count("SELECT count(*) FROM " + TABLE + " WHERE id = ?", id))
                .as("rolled back")
                .isZero();
    }

    @Test
    void aFailingStatementIsThrownUncheckedNamingItWithTheDatabasesReason() {
        assertThatThrownBy(() -> Sql.admin().count("SELECT count(*) FROM no_such_table_here"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("SELECT count(*) FROM no_such_table_here")
                .hasMessageContaining("does not exist")
                .hasCauseInstanceOf(SQLException.class);
    }
}
