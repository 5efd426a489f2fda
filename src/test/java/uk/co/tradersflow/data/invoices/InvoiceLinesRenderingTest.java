package uk.co.tradersflow.data.invoices;

import static io.vertx.core.http.HttpMethod.GET;
import static io.vertx.core.http.HttpMethod.PATCH;
import static io.vertx.core.http.HttpMethod.POST;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static uk.co.tradersflow.support.InvoiceRequests.line;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.support.InvoiceReplies;
import uk.co.tradersflow.support.ScratchDatabase;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/**
 * An invoice's lines are served as the database rendered them ({@code invoices.lines_json}, V015),
 * unparsed: the rendering must say exactly what {@code invoice_lines} says, whoever changed it,
 * and only the database may write it.
 */
class InvoiceLinesRenderingTest {
    static TestServer server;
    static TestUsers users;

    @RegisterExtension
    static final ServerExtension lifecycle =
            ServerExtension.withDefaults().then(s -> server = s).then(s -> users = new TestUsers(s));

    private static JsonObject invoice(TestUser user, JsonArray lines) {
        String customer = server.createCustomer(user.token());
        HttpResponse<Buffer> r = server.send(
                POST,
                "/api/v1/invoices",
                user.token(),
                new JsonObject().put("customerId", customer).put("lines", lines));
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
        return r.bodyAsJsonObject();
    }

    @Test
    void anyDescriptionComesBackExactlyAsSentInEveryReply() {
        TestUser a = users.create();
        JsonArray lines = new JsonArray()
                .add(line("Say \"when\" \\ then stop", 1, 100))
                .add(line("Tab\there\r\nand a new line", 2.5, 250))
                .add(line("</script><script>alert(1)</script>", 0.01, 1))
                .add(line("Boiler £ é 🔧 \u2028 end", 1000000, 0));
        JsonObject created = invoice(a, lines);
        String id = created.getString("id");

        assertThat(created.getJsonArray("lines")).isEqualTo(lines);
        assertThat(server.send(GET, "/api/v1/invoices/" + id, a.token())
                        .bodyAsJsonObject()
                        .getJsonArray("lines"))
                .isEqualTo(lines);
        JsonObject listed = server.send(GET, "/api/v1/invoices", a.token())
                .bodyAsJsonObject()
                .getJsonArray("items")
                .getJsonObject(0);
        assertThat(listed.getString("id")).isEqualTo(id);
        assertThat(listed.getJsonArray("lines")).isEqualTo(lines);
    }

    @Test
    void quantitiesAreWrittenPlainWithoutTrailingZeros() {
        TestUser a = users.create();
        invoice(
                a,
                new JsonArray()
                        .add(line("Hours", 100, 1))
                        .add(line("Metres", new java.math.BigDecimal("1.50"), 1))
                        .add(line("Each", 0.25, 1)));
        String body = server.send(GET, "/api/v1/invoices", a.token()).bodyAsString();
        assertThat(body)
                .contains("\"quantity\":100,", "\"quantity\":1.5,", "\"quantity\":0.25,")
                .doesNotContain("E+");
    }

    @Test
    void replacingTheLinesRerendersThemAndAnInvoiceWithoutLinesHasAnEmptyList() {
        TestUser a = users.create();
        String id = invoice(a, new JsonArray().add(line("Old", 1, 100)).add(line("Older", 1, 100)))
                .getString("id");

        JsonArray replaced = new JsonArray().add(line("New", 3, 700));
        HttpResponse<Buffer> patched =
                server.send(PATCH, "/api/v1/invoices/" + id, a.token(), new JsonObject().put("lines", replaced));
        assertThat(patched.statusCode()).as(patched.bodyAsString()).isEqualTo(200);
        assertThat(patched.bodyAsJsonObject().getJsonArray("lines")).isEqualTo(replaced);
        assertThat(server.send(GET, "/api/v1/invoices/" + id, a.token())
                        .bodyAsJsonObject()
                        .getJsonArray("lines"))
                .isEqualTo(replaced);

        patched =
                server.send(PATCH, "/api/v1/invoices/" + id, a.token(), new JsonObject().put("lines", new JsonArray()));
        assertThat(patched.statusCode()).as(patched.bodyAsString()).isEqualTo(200);
        assertThat(server.send(GET, "/api/v1/invoices/" + id, a.token())
                        .bodyAsJsonObject()
                        .getJsonArray("lines"))
                .isEmpty();
    }

    /** Lines changed behind the API's back, by any statement, are rendered again all the same. */
    @Test
    void theRenderingFollowsEveryChangeToInvoiceLines() throws SQLException {
        TestUser a = users.create();
        String id = invoice(a, new JsonArray().add(line("First", 1, 100))).getString("id");
        try (Connection c = server.env.asAppIn(a.accountId());
                Statement s = c.createStatement()) {
            s.execute("INSERT INTO invoice_lines (invoice_id, position, description, quantity, unit_pence) VALUES ('"
                    + id + "', 1, 'Second', 2, 200), ('" + id + "', 2, 'Third', 3, 300)");
            assertThat(rendered(s, id))
                    .isEqualTo("[{\"description\":\"First\",\"quantity\":1,\"unitPence\":100},"
                            + "{\"description\":\"Second\",\"quantity\":2,\"unitPence\":200},"
                            + "{\"description\":\"Third\",\"quantity\":3,\"unitPence\":300}]");
            s.execute(
                    "UPDATE invoice_lines SET position = 5 - position, quantity = 0.5 WHERE invoice_id = '" + id + "'");
            assertThat(rendered(s, id))
                    .isEqualTo("[{\"description\":\"Third\",\"quantity\":0.5,\"unitPence\":300},"
                            + "{\"description\":\"Second\",\"quantity\":0.5,\"unitPence\":200},"
                            + "{\"description\":\"First\",\"quantity\":0.5,\"unitPence\":100}]");
            s.execute("DELETE FROM invoice_lines WHERE invoice_id = '" + id + "' AND description <> 'Second'");
            assertThat(rendered(s, id)).isEqualTo("[{\"description\":\"Second\",\"quantity\":0.5,\"unitPence\":200}]");
            s.execute("DELETE FROM invoice_lines WHERE invoice_id = '" + id + "'");
            assertThat(rendered(s, id)).isEqualTo("[]");
            c.rollback();
        }
    }

    /**
     * Two transactions adding lines to one invoice at once, neither locking it first: whichever
     * renders second waits for the first and renders both transactions' lines, not just its own.
     */
    @Test
    void linesAddedByTwoTransactionsAtOnceAreAllRendered() throws Exception {
        TestUser a = users.create();
        String id = invoice(a, new JsonArray().add(line("Booked", 1, 100))).getString("id");
        try (Connection first = server.env.asAppIn(a.accountId());
                Connection second = server.env.asAppIn(a.accountId());
                Connection admin = server.env.admin()) {
            try (Statement s = first.createStatement()) {
                s.execute(
                        "INSERT INTO invoice_lines (invoice_id, position, description, quantity, unit_pence) VALUES ('"
                                + id + "', 1, 'From the first', 1, 200)");
            }
            java.util.concurrent.CompletableFuture<Void> secondInsert =
                    java.util.concurrent.CompletableFuture.runAsync(() -> {
                        try (Statement s = second.createStatement()) {
                            s.execute(
                                    "INSERT INTO invoice_lines (invoice_id, position, description, quantity, unit_pence) VALUES ('"
                                            + id + "', 2, 'From the second', 1, 300)");
                        } catch (SQLException e) {
                            throw new IllegalStateException(e);
                        }
                    });
            server.env.awaitLockWait("From the second");
            // Each commits as the server would, with the invoice's reply rendered (sql/V029).
            InvoiceReplies.renderPending(first);
            first.commit();
            secondInsert.get(10, java.util.concurrent.TimeUnit.SECONDS);
            InvoiceReplies.renderPending(second);
            second.commit();
            try (Statement s = admin.createStatement()) {
                assertThat(rendered(s, id))
                        .isEqualTo("[{\"description\":\"Booked\",\"quantity\":1,\"unitPence\":100},"
                                + "{\"description\":\"From the first\",\"quantity\":1,\"unitPence\":200},"
                                + "{\"description\":\"From the second\",\"quantity\":1,\"unitPence\":300}]");
            }
            assertThat(server.send(GET, "/api/v1/invoices/" + id, a.token())
                            .bodyAsJsonObject()
                            .getJsonArray("lines")
                            .size())
                    .isEqualTo(3);
        }
    }

    @Test
    void theRuntimeRoleCannotWriteTheRenderingItself() throws SQLException {
        TestUser a = users.create();
        String id = invoice(a, new JsonArray().add(line("Honest", 1, 100))).getString("id");
        try (Connection c = server.env.asAppIn(a.accountId());
                Statement s = c.createStatement()) {
            s.execute("SAVEPOINT attempt");
            assertThatThrownBy(() ->
                            s.execute("UPDATE invoices SET lines_json = '[{\"description\":\"Forged\"}]' WHERE id = '"
                                    + id + "'"))
                    .hasMessageContaining("permission denied");
            s.execute("ROLLBACK TO SAVEPOINT attempt");
            assertThatThrownBy(() -> s.execute("INSERT INTO invoices (number, customer_id, lines_json) "
                            + "SELECT 99, customer_id, '[{\"description\":\"Forged\"}]' FROM invoices WHERE id = '" + id
                            + "'"))
                    .hasMessageContaining("permission denied");
            c.rollback();
        }
        assertThat(server.send(GET, "/api/v1/invoices/" + id, a.token())
                        .bodyAsJsonObject()
                        .getJsonArray("lines")
                        .getJsonObject(0)
                        .getString("description"))
                .isEqualTo("Honest");
    }

    /**
     * Deleting an account's lines re-renders their invoices; the purge deletes the invoices and lets
     * the lines go with them, so no invoice is rewritten on its way out (the transaction's own
     * statistics count the rows it updated).
     */
    @Test
    void purgingAnAccountDeletesItsLinesWithItsInvoicesWithoutRewritingThem() throws SQLException {
        TestUser a = users.create();
        invoice(a, new JsonArray().add(line("Going", 1, 100)).add(line("Gone", 2, 50)));
        invoice(a, new JsonArray().add(line("Also going", 1, 100)));
        try (Connection c = server.env.admin();
                Statement s = c.createStatement()) {
            s.execute("UPDATE accounts SET status = 'closed', closed_at = now(), delete_after = now() WHERE id = '"
                    + a.accountId() + "'");
            c.setAutoCommit(false);
            s.execute("SELECT retention_purge_account('" + a.accountId() + "')");
            try (ResultSet rs = s.executeQuery(
                    "SELECT n_tup_upd, n_tup_del FROM pg_stat_xact_user_tables WHERE relname = 'invoices'")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getLong("n_tup_del")).isEqualTo(2);
                assertThat(rs.getLong("n_tup_upd"))
                        .as("invoices rewritten before their deletion")
                        .isZero();
            }
            c.commit();
            try (ResultSet rs =
                    s.executeQuery("SELECT count(*) FROM invoice_lines WHERE account_id = '" + a.accountId() + "'")) {
                rs.next();
                assertThat(rs.getLong(1)).isZero();
            }
        }
    }

    /** A database that already held invoices when V015 arrived has them rendered by the migration. */
    @Test
    void invoicesFromBeforeTheMigrationAreRenderedByIt() throws SQLException {
        try (ScratchDatabase db = ScratchDatabase.migratedTo("14")) {
            UUID account = UUID.randomUUID();
            UUID withLines = UUID.randomUUID();
            UUID withoutLines = UUID.randomUUID();
            try (Connection c = db.admin();
                    Statement s = c.createStatement()) {
                s.execute("INSERT INTO accounts (id, business_name) VALUES ('" + account + "', 'Before Ltd')");
                s.execute("INSERT INTO customers (id, account_id, name) VALUES ('" + account + "', '" + account
                        + "', 'Mr Before')");
                for (UUID invoice : new UUID[] {withLines, withoutLines}) {
                    s.execute("INSERT INTO invoices (id, account_id, number, customer_id) VALUES ('" + invoice + "', '"
                            + account + "', " + (invoice == withLines ? 1 : 2) + ", '" + account + "')");
                }
                s.execute(
                        "INSERT INTO invoice_lines (account_id, invoice_id, position, description, quantity, unit_pence) VALUES ('"
                                + account + "', '" + withLines + "', 1, 'Second', 1.50, 20), ('" + account + "', '"
                                + withLines + "', 0, 'First', 2.00, 10)");
            }

            db.migrateToLatest();

            try (Connection c = db.admin();
                    Statement s = c.createStatement()) {
                assertThat(rendered(s, withLines.toString()))
                        .isEqualTo(
                                "[{\"description\":\"First\",\"quantity\":2,\"unitPence\":10},{\"description\":\"Second\",\"quantity\":1.5,\"unitPence\":20}]");
                assertThat(rendered(s, withoutLines.toString())).isEqualTo("[]");
            }
        }
    }

    private static String rendered(Statement s, String invoiceId) throws SQLException {
        try (ResultSet rs = s.executeQuery("SELECT lines_json::text FROM invoices WHERE id = '" + invoiceId + "'")) {
            assertThat(rs.next()).isTrue();
            return rs.getString(1);
        }
    }
}
