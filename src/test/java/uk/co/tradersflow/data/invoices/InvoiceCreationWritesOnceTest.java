package uk.co.tradersflow.data.invoices;

import static io.vertx.core.http.HttpMethod.POST;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.support.InvoiceReplies;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/**
 * A creation writes its invoice row once, with its lines rendered by the database and its reply
 * (sql/V047, {@code invoice_create}; a batch of them, sql/V052, {@code invoice_create_many}), and
 * the lines' trigger leaves that row alone; every other
 * change of lines is still rendered as before, and a reply the row no longer matches still
 * refuses the commit.
 */
class InvoiceCreationWritesOnceTest {
    static TestServer server;
    static TestUsers users;

    @RegisterExtension
    static final ServerExtension lifecycle =
            ServerExtension.withDefaults().then(s -> server = s).then(s -> users = new TestUsers(s));

    // Descriptions the two renderings must escape alike, and quantities the column coerces.
    private static final String[] DESCRIPTIONS = {
        "Say \"when\"", "tab\there, new\nline, bell\u0007", "£ é 🔧 \u2028 </script>", "back\\slash"
    };
    private static final String[] QUANTITIES = {"2", "1.50", "0.005", "12.3"};
    private static final long[] UNIT_PENCE = {4500, 1250, 333, 1};

    private static PreparedStatement create(Connection c, UUID id, int number, String customer) throws SQLException {
        PreparedStatement ps = c.prepareStatement("SELECT number, convert_from(body, 'UTF8') AS body"
                + " FROM invoice_create(?, ?, ?::uuid, NULL, 'GBP', NULL, 1, ?, ?, ?, now(), ?)");
        ps.setObject(1, id);
        ps.setInt(2, number);
        ps.setString(3, customer);
        ps.setArray(4, c.createArrayOf("text", DESCRIPTIONS));
        ps.setArray(5, c.createArrayOf("text", QUANTITIES));
        Long[] pence = new Long[UNIT_PENCE.length];
        for (int i = 0; i < pence.length; i++) {
            pence[i] = UNIT_PENCE[i];
        }
        ps.setArray(6, c.createArrayOf("bigint", pence));
        ps.setString(7, "{\"reply\":\"as the server rendered it\"}");
        return ps;
    }

    private static long tuplesWritten(Statement s, String column) throws SQLException {
        try (ResultSet rs =
                s.executeQuery("SELECT " + column + " FROM pg_stat_xact_user_tables WHERE relname = 'invoices'")) {
            return rs.next() ? rs.getLong(1) : 0;
        }
    }

    @Test
    void aCreationWritesItsInvoiceOnceWithTheLinesAsTheTriggerRendersThemAndItsReply() throws SQLException {
        TestUser a = users.create();
        String customer = server.createCustomer(a.token());
        UUID id = UUID.randomUUID();
        try (Connection c = server.env.asAppIn(a.accountId());
                Statement s = c.createStatement()) {
            try (PreparedStatement ps = create(c, id, 901, customer);
                    ResultSet rs = ps.executeQuery()) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt("number")).isEqualTo(901);
                assertThat(rs.getString("body")).isEqualTo("{\"reply\":\"as the server rendered it\"}");
            }
            assertThat(tuplesWritten(s, "n_tup_ins")).isEqualTo(1);
            assertThat(tuplesWritten(s, "n_tup_upd"))
                    .as("versions of the invoice written after its insert")
                    .isZero();
            c.commit();
        }
        try (Connection c = server.env.admin();
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT lines_json::text = invoice_lines_render(account_id, id)::text,"
                        + " lines_json::text, body_json FROM invoices WHERE id = '" + id + "'")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getBoolean(1)).as(rs.getString(2)).isTrue();
            assertThat(rs.getString(2))
                    .contains("\"quantity\":2,", "\"quantity\":1.5,", "\"quantity\":0.01,", "\"quantity\":12.3,");
            assertThat(rs.getString(3)).isEqualTo("{\"reply\":\"as the server rendered it\"}");
        }
    }

    /**
     * A batch of creations (sql/V052, {@code invoice_create_many}, one statement): each invoice
     * written once, with its own lines in their order numbered from 0, lines_json as the trigger
     * renders its stored lines, and its own reply; an invoice without lines renders none.
     */
    @Test
    void aBatchWritesEachInvoiceOnceWithItsOwnLinesAndReply() throws SQLException {
        TestUser a = users.create();
        String customer = server.createCustomer(a.token());
        UUID[] ids = {UUID.randomUUID(), UUID.randomUUID(), UUID.randomUUID()};
        try (Connection c = server.env.asAppIn(a.accountId());
                Statement s = c.createStatement()) {
            // The first creation has the four tricky lines, the second none, the third the first line again.
            try (PreparedStatement ps =
                            createMany(c, ids, customer, new Integer[] {1, 1, 1, 1, 3}, new int[] {0, 1, 2, 3, 0});
                    ResultSet rs = ps.executeQuery()) {
                int answered = 0;
                while (rs.next()) {
                    answered++;
                    UUID id = rs.getObject("id", UUID.class);
                    int place = List.of(ids).indexOf(id);
                    assertThat(rs.getInt("number")).isEqualTo(911 + place);
                    assertThat(rs.getString("body")).isEqualTo("{\"reply\":" + place + "}");
                }
                assertThat(answered).isEqualTo(3);
            }
            assertThat(tuplesWritten(s, "n_tup_ins")).isEqualTo(3);
            assertThat(tuplesWritten(s, "n_tup_upd"))
                    .as("versions of the invoices written after their insert")
                    .isZero();
            c.commit();
        }
        try (Connection c = server.env.admin();
                Statement s = c.createStatement()) {
            for (int place = 0; place < ids.length; place++) {
                try (ResultSet rs =
                        s.executeQuery("SELECT lines_json::text = invoice_lines_render(account_id, id)::text,"
                                + " lines_json::text, (SELECT string_agg(position::text, ',' ORDER BY position)"
                                + " FROM invoice_lines l WHERE l.invoice_id = i.id)"
                                + " FROM invoices i WHERE id = '" + ids[place] + "'")) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getBoolean(1)).as(rs.getString(2)).isTrue();
                    switch (place) {
                        case 0 -> {
                            assertThat(rs.getString(2))
                                    .startsWith("[{\"description\":\"Say \\\"when\\\"\",\"quantity\":2,")
                                    .contains("\"quantity\":1.5,", "\"quantity\":0.01,", "\"quantity\":12.3,");
                            assertThat(rs.getString(3)).isEqualTo("0,1,2,3");
                        }
                        case 1 -> {
                            assertThat(rs.getString(2)).isEqualTo("[]");
                            assertThat(rs.getString(3)).isNull();
                        }
                        default -> {
                            assertThat(rs.getString(2))
                                    .isEqualTo("[{\"description\":\"Say \\\"when\\\"\",\"quantity\":2,"
                                            + "\"unitPence\":4500}]");
                            assertThat(rs.getString(3)).isEqualTo("0");
                        }
                    }
                }
            }
        }
    }

    /**
     * The runtime role may declare its arrays to start anywhere ({@code '[0:1]={…}'}) and send a
     * creation's lines apart from each other: each line still lands on the invoice whose lines_json
     * shows it, in the order sent.
     */
    @Test
    void eachLineLandsOnTheInvoiceThatShowsItWhereverTheArraysStart() throws SQLException {
        TestUser a = users.create();
        String customer = server.createCustomer(a.token());
        UUID first = UUID.randomUUID();
        UUID second = UUID.randomUUID();
        try (Connection c = server.env.asAppIn(a.accountId());
                Statement s = c.createStatement()) {
            s.executeQuery("SELECT * FROM invoice_create_many('[0:1]={" + first + "," + second + "}'::uuid[],"
                            + " '[0:1]={921,922}', '{" + customer + "," + customer + "}', '{NULL,NULL}', '{GBP,GBP}',"
                            + " '{NULL,NULL}', '{1,1}', '{\"{}\",\"{}\"}', '{1,2,1}',"
                            + " '[5:7]={Ghost,Second,\"Ghost again\"}', '{1,1,1}', '{1,2,3}', now())")
                    .close();
            c.commit();
        }
        try (Connection c = server.env.admin();
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(
                        "SELECT i.number, lines_json::text = invoice_lines_render(account_id, i.id)::text,"
                                + " (SELECT string_agg(position || ' ' || description, ', ' ORDER BY position)"
                                + " FROM invoice_lines l WHERE l.invoice_id = i.id)"
                                + " FROM invoices i WHERE i.id IN ('" + first + "', '" + second
                                + "') ORDER BY i.number")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getInt(1)).isEqualTo(921);
            assertThat(rs.getBoolean(2)).as("lines_json shows the stored lines").isTrue();
            assertThat(rs.getString(3)).isEqualTo("0 Ghost, 1 Ghost again");
            assertThat(rs.next()).isTrue();
            assertThat(rs.getInt(1)).isEqualTo(922);
            assertThat(rs.getBoolean(2)).as("lines_json shows the stored lines").isTrue();
            assertThat(rs.getString(3)).isEqualTo("0 Second");
        }
    }

    /** As invoice_create: nothing without the account scope, and nothing with another account's customer. */
    @Test
    void invoiceCreateManyWritesOnlyInTheCallersAccountScope() throws SQLException {
        TestUser a = users.create();
        String customer = server.createCustomer(a.token());
        UUID[] ids = {UUID.randomUUID(), UUID.randomUUID()};
        try (Connection c = server.env.asApp()) {
            c.setAutoCommit(false);
            try (PreparedStatement ps = createMany(c, ids, customer, new Integer[] {1, 2}, new int[] {0, 1})) {
                assertThatThrownBy(ps::executeQuery).hasMessageContaining("needs the account scope");
            }
            c.rollback();
        }
        TestUser b = users.create();
        try (Connection c = server.env.asAppIn(b.accountId());
                PreparedStatement ps = createMany(c, ids, customer, new Integer[] {1, 2}, new int[] {0, 1})) {
            assertThatThrownBy(ps::executeQuery).hasMessageContaining("foreign key");
            c.rollback();
        }
        try (Connection c = server.env.admin();
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(
                        "SELECT count(*) FROM invoices WHERE id IN ('" + ids[0] + "', '" + ids[1] + "')")) {
            rs.next();
            assertThat(rs.getLong(1)).isZero();
        }
    }

    /** A line that names no creation of the batch is refused, and nothing of the batch is written. */
    @Test
    void aBatchWhoseLineNamesNoCreationIsRefusedWhole() throws SQLException {
        TestUser a = users.create();
        String customer = server.createCustomer(a.token());
        UUID[] ids = {UUID.randomUUID(), UUID.randomUUID(), UUID.randomUUID()};
        for (Integer[] owners : List.of(new Integer[] {1, 4}, new Integer[] {0, 1}, new Integer[] {1, null})) {
            try (Connection c = server.env.asAppIn(a.accountId());
                    PreparedStatement ps = createMany(c, ids, customer, owners, new int[] {0, 1})) {
                assertThatThrownBy(ps::executeQuery)
                        .as("lines of creations " + Arrays.toString(owners))
                        .hasMessageContaining("a line names no creation of the batch");
                c.rollback();
            }
        }
        try (Connection c = server.env.admin();
                Statement s = c.createStatement();
                ResultSet rs =
                        s.executeQuery("SELECT count(*) FROM invoices WHERE account_id = '" + a.accountId() + "'")) {
            rs.next();
            assertThat(rs.getLong(1)).isZero();
        }
    }

    /** {@code ids.length} creations numbered from 911, each line {@code lines[k]} of the tricky ones for creation {@code owners[k]}. */
    private static PreparedStatement createMany(
            Connection c, UUID[] ids, String customer, Integer[] owners, int[] lines) throws SQLException {
        PreparedStatement ps = c.prepareStatement("SELECT id, number, convert_from(body, 'UTF8') AS body"
                + " FROM invoice_create_many(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now())");
        int n = ids.length;
        Integer[] numbers = new Integer[n];
        UUID[] customers = new UUID[n];
        String[] currencies = new String[n];
        Long[] totals = new Long[n];
        String[] bodies = new String[n];
        for (int i = 0; i < n; i++) {
            numbers[i] = 911 + i;
            customers[i] = UUID.fromString(customer);
            currencies[i] = "GBP";
            totals[i] = 1L;
            bodies[i] = "{\"reply\":" + i + "}";
        }
        String[] descriptions = new String[lines.length];
        String[] quantities = new String[lines.length];
        Long[] pence = new Long[lines.length];
        for (int k = 0; k < lines.length; k++) {
            descriptions[k] = DESCRIPTIONS[lines[k]];
            quantities[k] = QUANTITIES[lines[k]];
            pence[k] = UNIT_PENCE[lines[k]];
        }
        ps.setArray(1, c.createArrayOf("uuid", ids));
        ps.setArray(2, c.createArrayOf("integer", numbers));
        ps.setArray(3, c.createArrayOf("uuid", customers));
        ps.setArray(4, c.createArrayOf("uuid", new UUID[n]));
        ps.setArray(5, c.createArrayOf("text", currencies));
        ps.setArray(6, c.createArrayOf("date", new Object[n]));
        ps.setArray(7, c.createArrayOf("bigint", totals));
        ps.setArray(8, c.createArrayOf("text", bodies));
        ps.setArray(9, c.createArrayOf("integer", owners));
        ps.setArray(10, c.createArrayOf("text", descriptions));
        ps.setArray(11, c.createArrayOf("text", quantities));
        ps.setArray(12, c.createArrayOf("bigint", pence));
        return ps;
    }

    /**
     * The server renders a new invoice's reply from its input and the database's number, time and
     * lines (InvoiceReply.ofNew) before the row exists, saying itself what the row will default
     * to. That reply must be, byte for byte, what the same renderer makes of the row once written,
     * as every later write and payment renders it.
     */
    @Test
    void aCreatedInvoicesReplyIsByteForByteWhatItsRowRendersTo() throws SQLException {
        TestUser a = users.create();
        String customer = server.createCustomer(a.token());
        String job = server.create(
                "/api/v1/jobs",
                a.token(),
                new JsonObject().put("customerId", customer).put("title", "Boiler"));
        List<JsonObject> bodies = List.of(
                // Everything the row defaults: draft, GBP, no job, no due date, no lines.
                new JsonObject().put("customerId", customer),
                new JsonObject()
                        .put("customerId", customer)
                        .put("jobId", job)
                        .put("currency", "EUR")
                        .put("dueDate", "2027-02-28")
                        .put(
                                "lines",
                                new JsonArray()
                                        .add(new JsonObject()
                                                .put("description", DESCRIPTIONS[0] + " " + DESCRIPTIONS[2])
                                                .put("quantity", new BigDecimal("1.50"))
                                                .put("unitPence", 4500))
                                        .add(new JsonObject()
                                                .put("description", DESCRIPTIONS[3])
                                                .put("quantity", 2)
                                                .put("unitPence", 1))));
        for (JsonObject body : bodies) {
            HttpResponse<Buffer> created = server.send(POST, "/api/v1/invoices", a.token(), body);
            assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
            String id = created.bodyAsJsonObject().getString("id");
            try (Connection c = server.env.admin();
                    Statement s = c.createStatement()) {
                String stored = bodyOf(s, id);
                assertThat(created.bodyAsString()).isEqualTo(stored);
                c.setAutoCommit(false);
                s.executeUpdate("UPDATE invoices SET body_json = NULL WHERE id = '" + id + "'");
                assertThat(InvoiceReplies.renderPending(c)).isEqualTo(1);
                assertThat(bodyOf(s, id)).as("rendered again from the row").isEqualTo(stored);
                c.rollback();
            }
        }
    }

    private static String bodyOf(Statement s, String id) throws SQLException {
        try (ResultSet rs = s.executeQuery("SELECT body_json FROM invoices WHERE id = '" + id + "'")) {
            assertThat(rs.next()).isTrue();
            return rs.getString(1);
        }
    }

    @Test
    void linesChangedAfterTheCreationInItsTransactionAreRenderedAndTheReplyMustFollow() throws SQLException {
        TestUser a = users.create();
        String customer = server.createCustomer(a.token());
        UUID id = UUID.randomUUID();
        try (Connection c = server.env.asAppIn(a.accountId());
                Statement s = c.createStatement()) {
            try (PreparedStatement ps = create(c, id, 902, customer)) {
                ps.executeQuery().close();
            }
            s.execute("INSERT INTO invoice_lines (invoice_id, position, description, quantity, unit_pence) VALUES ('"
                    + id + "', 9, 'Added after', 1, 5)");
            try (ResultSet rs = s.executeQuery("SELECT lines_json FROM invoice_render_pending('" + id + "')")) {
                assertThat(rs.next()).as("the reply went pending").isTrue();
                assertThat(rs.getString(1)).contains("Added after").contains("Say \\\"when\\\"");
            }
            assertThatThrownBy(c::commit).hasMessageContaining("was changed without its reply rendered");
        }
        try (Connection c = server.env.admin();
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT count(*) FROM invoices WHERE id = '" + id + "'")) {
            rs.next();
            assertThat(rs.getLong(1)).isZero();
        }
    }

    /**
     * An insert now keeps a reply it brings, so only the column privilege keeps the runtime role
     * from inserting an invoice whose reply says something else than the row: it may reach
     * body_json only through invoice_create, which writes the row the reply was rendered from.
     */
    @Test
    void theRuntimeRoleCannotInsertAReplyOfItsOwn() throws SQLException {
        TestUser a = users.create();
        String customer = server.createCustomer(a.token());
        try (Connection c = server.env.asAppIn(a.accountId());
                Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.execute("INSERT INTO invoices (number, customer_id, body_json) VALUES (905, '"
                            + customer + "', '{\"totalPence\":1}')"))
                    .hasMessageContaining("permission denied");
            c.rollback();
        }
    }

    @Test
    void invoiceCreateWritesOnlyInTheCallersAccountScope() throws SQLException {
        TestUser a = users.create();
        String customer = server.createCustomer(a.token());
        try (Connection c = server.env.asApp()) {
            c.setAutoCommit(false);
            try (PreparedStatement ps = create(c, UUID.randomUUID(), 903, customer)) {
                assertThatThrownBy(ps::executeQuery).hasMessageContaining("needs the account scope");
            }
            c.rollback();
        }
        // Another account's scope: its customer is not this account's (the foreign key on
        // account_id and customer_id), so nothing is written.
        TestUser b = users.create();
        try (Connection c = server.env.asAppIn(b.accountId())) {
            try (PreparedStatement ps = create(c, UUID.randomUUID(), 904, customer)) {
                assertThatThrownBy(ps::executeQuery).hasMessageContaining("foreign key");
            }
            c.rollback();
        }
    }
}
