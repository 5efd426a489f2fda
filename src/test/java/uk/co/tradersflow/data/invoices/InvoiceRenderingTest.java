package uk.co.tradersflow.data.invoices;

import static io.vertx.core.http.HttpMethod.GET;
import static io.vertx.core.http.HttpMethod.POST;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.sqlclient.Tuple;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.platform.db.Rows;
import uk.co.tradersflow.support.InvoiceReplies;
import uk.co.tradersflow.support.ScratchDatabase;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/**
 * An invoice's reply is rendered by the server on every write ({@code invoices.body_json},
 * {@link InvoiceReply}, V029) and served as it is: it must be the contract's object, field for
 * field and in order, whoever wrote the row, and no write may commit without it.
 */
class InvoiceRenderingTest {
    static final List<String> FIELDS = List.of(
            "id",
            "number",
            "customerId",
            "jobId",
            "status",
            "currency",
            "lines",
            "totalPence",
            "dueDate",
            "paymentUrl",
            "paidAt",
            "createdAt",
            "updatedAt");

    static TestServer server;
    static TestUsers users;

    @RegisterExtension
    static final ServerExtension lifecycle =
            ServerExtension.withDefaults().then(s -> server = s).then(s -> users = new TestUsers(s));

    private static JsonObject listed(TestUser user) {
        return server.send(GET, "/api/v1/invoices", user.token())
                .bodyAsJsonObject()
                .getJsonArray("items")
                .getJsonObject(0);
    }

    @Test
    void everyReplyIsTheContractsObjectFieldForFieldAndInOrder() {
        TestUser a = users.create();
        String customer = server.createCustomer(a.token());
        String job = server.create(
                "/api/v1/jobs",
                a.token(),
                new JsonObject().put("customerId", customer).put("title", "Boiler"));
        HttpResponse<Buffer> created = server.send(
                POST,
                "/api/v1/invoices",
                a.token(),
                new JsonObject()
                        .put("customerId", customer)
                        .put("jobId", job)
                        .put("dueDate", "2027-01-31")
                        .put(
                                "lines",
                                new JsonArray()
                                        .add(new JsonObject()
                                                .put("description", "Labour")
                                                .put("quantity", 2)
                                                .put("unitPence", 4500))));
        assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
        String id = created.bodyAsJsonObject().getString("id");

        for (JsonObject invoice : List.of(
                created.bodyAsJsonObject(),
                server.send(GET, "/api/v1/invoices/" + id, a.token()).bodyAsJsonObject(),
                listed(a))) {
            assertThat(new ArrayList<>(invoice.fieldNames())).containsExactlyElementsOf(FIELDS);
            assertThat(invoice.getString("id")).isEqualTo(id);
            assertThat(invoice.getString("number")).isEqualTo("INV-0001");
            assertThat(invoice.getString("customerId")).isEqualTo(customer);
            assertThat(invoice.getString("jobId")).isEqualTo(job);
            assertThat(invoice.getString("status")).isEqualTo("draft");
            assertThat(invoice.getString("currency")).isEqualTo("GBP");
            assertThat(invoice.getLong("totalPence")).isEqualTo(9000);
            assertThat(invoice.getString("dueDate")).isEqualTo("2027-01-31");
            assertThat(invoice.getValue("paymentUrl")).isNull();
            assertThat(invoice.getValue("paidAt")).isNull();
            String createdAt = invoice.getString("createdAt");
            assertThat(Instant.parse(createdAt).toString()).isEqualTo(createdAt);
        }
    }

    /**
     * Writers other than the routes (a payment, a number past 9,999) get the row rendered too, as
     * long as they render in the same transaction (support/InvoiceReplies, with the server's renderer).
     */
    @Test
    void aRowChangedByAnyWriterIsServedAsItNowIs() throws SQLException {
        TestUser a = users.create();
        String customer = server.createCustomer(a.token());
        String id = server.create("/api/v1/invoices", a.token(), new JsonObject().put("customerId", customer));
        try (Connection c = server.env.admin()) {
            InvoiceReplies.write(c, tx -> {
                try (Statement s = tx.createStatement()) {
                    s.executeUpdate(
                            "UPDATE invoices SET number = 12345, status = 'paid', paid_at = '2026-12-05T10:00:00.5Z', "
                                    + "payment_url = 'https://pay.example.test/p/\"x\"' WHERE id = '" + id + "'");
                }
            });
        }
        JsonObject invoice =
                server.send(GET, "/api/v1/invoices/" + id, a.token()).bodyAsJsonObject();
        assertThat(invoice.getString("number")).isEqualTo("INV-12345");
        assertThat(invoice.getString("status")).isEqualTo("paid");
        assertThat(invoice.getString("paidAt")).isEqualTo("2026-12-05T10:00:00.500Z");
        assertThat(invoice.getString("paymentUrl")).isEqualTo("https://pay.example.test/p/\"x\"");
        assertThat(invoice.getValue("jobId")).isNull();
        assertThat(invoice.getValue("dueDate")).isNull();
        assertThat(listed(a)).isEqualTo(invoice);
    }

    /**
     * A change to what the reply shows, committed without rendering it (hand-written SQL, a
     * previous version's instance), is refused at commit and changes nothing: no reply ever says
     * something other than its row. A write that changes nothing the reply shows is let through.
     */
    @Test
    void aChangeCommittedWithoutItsRenderingIsRefusedAndChangesNothing() throws SQLException {
        TestUser a = users.create();
        String id = server.create(
                "/api/v1/invoices", a.token(), new JsonObject().put("customerId", server.createCustomer(a.token())));
        JsonObject before =
                server.send(GET, "/api/v1/invoices/" + id, a.token()).bodyAsJsonObject();
        for (String change : List.of(
                "UPDATE invoices SET status = 'void' WHERE id = '%s'",
                "INSERT INTO invoice_lines (invoice_id, position, description, quantity, unit_pence) VALUES ('%s', 0, 'Sneaked in', 1, 100)")) {
            try (Connection c = server.env.asAppIn(a.accountId());
                    Statement s = c.createStatement()) {
                s.execute(change.formatted(id));
                assertThatThrownBy(c::commit).hasMessageContaining("without its reply rendered");
            }
        }
        try (Connection c = server.env.admin();
                Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.executeUpdate("UPDATE invoices SET total_pence = 1 WHERE id = '" + id + "'"))
                    .hasMessageContaining("without its reply rendered");
            assertThat(s.executeUpdate("UPDATE invoices SET version = version WHERE id = '" + id + "'"))
                    .isEqualTo(1);
        }
        assertThat(server.send(GET, "/api/v1/invoices/" + id, a.token()).bodyAsJsonObject())
                .isEqualTo(before);
        assertThat(listed(a)).isEqualTo(before);
    }

    /**
     * The runtime role cannot write a reply itself, and the function the server stores replies with
     * reaches only a reply its own transaction left pending, never a committed one.
     */
    @Test
    void theRuntimeRoleCannotWriteAReplyOverACommittedOne() throws SQLException {
        TestUser a = users.create();
        String id = server.create(
                "/api/v1/invoices", a.token(), new JsonObject().put("customerId", server.createCustomer(a.token())));
        JsonObject before =
                server.send(GET, "/api/v1/invoices/" + id, a.token()).bodyAsJsonObject();
        try (Connection c = server.env.asAppIn(a.accountId());
                Statement s = c.createStatement()) {
            s.execute("SAVEPOINT attempt");
            assertThatThrownBy(() -> s.executeUpdate("UPDATE invoices SET body_json = '{\"forged\":true}'"))
                    .hasMessageContaining("permission denied");
            s.execute("ROLLBACK TO SAVEPOINT attempt");
            try (ResultSet rs =
                    s.executeQuery("SELECT count(*) FROM invoice_store_reply('" + id + "', '{\"forged\":true}')")) {
                rs.next();
                assertThat(rs.getLong(1)).isZero();
            }
            c.commit();
        }
        assertThat(server.send(GET, "/api/v1/invoices/" + id, a.token()).bodyAsJsonObject())
                .isEqualTo(before);
    }

    /**
     * Instants as {@link Instant#toString()} writes them (the server's format before V025): UTC, the
     * fraction in groups of three digits, none when it is zero, for every instant PostgreSQL keeps
     * (to the microsecond) as the server's client reads it back and the renderer writes it.
     */
    @Test
    void instantsAreWrittenAsInstantToStringWritesThem() {
        Random random = new Random(20261205);
        long min = Instant.parse("0001-01-01T00:00:00Z").getEpochSecond();
        long max = Instant.parse("9999-12-31T23:59:59Z").getEpochSecond();
        int[] units = {0, 1_000_000, 1000}; // whole seconds, milliseconds, microseconds: what PostgreSQL keeps
        List<String> expected = new ArrayList<>();
        for (String edge : List.of(
                "1970-01-01T00:00:00Z",
                "2000-02-29T12:00:00.100Z",
                "2026-12-05T10:46:36.846225Z",
                "0001-01-01T00:00:00Z",
                "9999-12-31T23:59:59.999999Z",
                "2026-03-29T00:59:59.000001Z")) {
            expected.add(edge);
        }
        for (int n = 0; n < 20_000; n++) {
            long seconds = min + (long) (random.nextDouble() * (max - min));
            int unit = units[random.nextInt(units.length)];
            int nanos = unit == 0 ? 0 : random.nextInt(1_000_000_000 / unit) * unit;
            expected.add(Instant.ofEpochSecond(seconds, nanos).toString());
        }
        UUID id = UUID.randomUUID();
        List<Instant> stored = TestServer.await(server.main.db().direct(pool -> pool.preparedQuery(
                        "SELECT t::timestamptz FROM unnest($1::text[]) WITH ORDINALITY AS u(t, n) ORDER BY n")
                .execute(Tuple.of(expected.toArray(new String[0])))
                .map(rows -> Rows.all(rows, r -> Rows.instant(r, 0)))));
        List<String> written = new ArrayList<>();
        for (Instant t : stored) {
            written.add(new JsonObject(
                            new InvoiceReply(id, 1, id, null, "paid", "GBP", "[]", 0, null, null, t, t, t).render())
                    .getString("paidAt"));
        }
        assertThat(written).containsExactlyElementsOf(expected);
    }

    /**
     * Replies stored before V029 (rendered by the V025 trigger) stay as they are, beside replies the
     * server renders: the two renderings must be the same text, byte for byte, for the same row.
     */
    @Test
    void theServerRendersARowExactlyAsTheRetiredTriggerDid() throws SQLException {
        try (ScratchDatabase db = ScratchDatabase.migratedTo("28")) {
            UUID account = UUID.randomUUID();
            UUID customer = UUID.randomUUID();
            UUID job = UUID.randomUUID();
            List<UUID> invoices = List.of(UUID.randomUUID(), UUID.randomUUID());
            try (Connection c = db.admin();
                    Statement s = c.createStatement()) {
                s.execute("INSERT INTO accounts (id, business_name) VALUES ('" + account + "', 'Before Ltd')");
                s.execute("INSERT INTO customers (id, account_id, name) VALUES ('" + customer + "', '" + account
                        + "', 'Mr Before')");
                s.execute("INSERT INTO jobs (id, account_id, customer_id, title) VALUES ('" + job + "', '" + account
                        + "', '" + customer + "', 'Boiler')");
                s.execute(
                        "INSERT INTO invoices (id, account_id, number, customer_id, job_id, status, currency, total_pence, due_date, "
                                + "payment_url, paid_at, created_at) VALUES ('" + invoices.get(0) + "', '" + account
                                + "', 12345, '" + customer + "', '"
                                + job
                                + "', 'paid', 'EUR', 8999, '2027-01-31', 'https://pay.example.test/p/\"x\"\\y?\u00e9=1', "
                                + "'2026-12-05T10:00:00.5Z', '2026-03-29T00:59:59.000001Z')");
                s.execute("INSERT INTO invoices (id, account_id, number, customer_id) VALUES ('" + invoices.get(1)
                        + "', '" + account + "', 7, '" + customer + "')");
                s.execute(
                        "INSERT INTO invoice_lines (account_id, invoice_id, position, description, quantity, unit_pence) VALUES ('"
                                + account + "', '" + invoices.get(0) + "', 0, 'Labour \"day\"\n\t\u00e9', 1.50, 5999)");
            }
            List<String> byTrigger = bodies(db, invoices);

            db.migrateToLatest();

            try (Connection c = db.admin()) {
                c.setAutoCommit(false);
                try (Statement s = c.createStatement()) {
                    s.executeUpdate("UPDATE invoices SET body_json = NULL WHERE account_id = '" + account + "'");
                }
                assertThat(InvoiceReplies.renderPending(c)).isEqualTo(2);
                c.commit();
            }
            assertThat(bodies(db, invoices)).containsExactlyElementsOf(byTrigger);
        }
    }

    private static List<String> bodies(ScratchDatabase db, List<UUID> invoices) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = db.admin();
                Statement s = c.createStatement()) {
            for (UUID id : invoices) {
                try (ResultSet rs = s.executeQuery("SELECT body_json FROM invoices WHERE id = '" + id + "'")) {
                    assertThat(rs.next()).isTrue();
                    out.add(rs.getString(1));
                }
            }
        }
        return out;
    }

    /**
     * Every invoice write renders its reply through invoice_render_pending(id): it must find that
     * one row by its key, however many invoices the database holds. Checked by what the call
     * itself scans (pg_stat_xact_user_tables, this transaction's own counts), beside 3,000 other
     * invoices so a scan is never the cheaper plan; everything is rolled back.
     */
    @Test
    void aPendingReplyIsFoundByItsKeyWithoutReadingEveryInvoice() throws SQLException {
        TestUser a = users.create();
        String id = server.create(
                "/api/v1/invoices", a.token(), new JsonObject().put("customerId", server.createCustomer(a.token())));
        try (Connection c = server.env.admin();
                Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            s.execute("SET LOCAL session_replication_role = replica"); // no triggers, no foreign keys
            s.execute(
                    """
                INSERT INTO invoices (id, account_id, number, customer_id, status, total_pence, body_json)
                SELECT gen_random_uuid(), gen_random_uuid(), 1, gen_random_uuid(), 'draft', 100, '{}'
                  FROM generate_series(1, 3000)""");
            s.execute("SET LOCAL session_replication_role = origin");
            s.execute("UPDATE invoices SET due_date = DATE '2031-01-31' WHERE id = '" + id + "'"); // pending again
            long before = tuplesRead(s);
            try (ResultSet rs = s.executeQuery("SELECT id, due_date FROM invoice_render_pending('" + id + "')")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo(id);
                assertThat(rs.getString(2)).isEqualTo("2031-01-31");
                assertThat(rs.next()).isFalse();
            }
            assertThat(tuplesRead(s) - before)
                    .as("invoice rows the call read (a sequential scan reads them all)")
                    .isLessThanOrEqualTo(1);
            c.rollback();
        }
    }

    /** Invoice rows this transaction has read so far: by scans, and fetched through indexes. */
    private static long tuplesRead(Statement s) throws SQLException {
        try (ResultSet rs = s.executeQuery(
                "SELECT seq_tup_read + coalesce(idx_tup_fetch, 0) FROM pg_stat_xact_user_tables WHERE relname = 'invoices'")) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
