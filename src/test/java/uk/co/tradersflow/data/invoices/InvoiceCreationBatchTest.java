package uk.co.tradersflow.data.invoices;

import static org.assertj.core.api.Assertions.assertThat;
import static uk.co.tradersflow.support.InvoiceRequests.line;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.FieldError;
import uk.co.tradersflow.platform.http.ClientInfo;
import uk.co.tradersflow.platform.http.JsonInput;
import uk.co.tradersflow.platform.security.Principal;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/**
 * Creations of one account that arrive while its transaction is in flight wait for it and then
 * commit together (InvoiceService.create); each keeps its own outcome. The service is driven
 * from the test's thread, so "arrived meanwhile" is certain: each call returns once its creation
 * is queued.
 */
class InvoiceCreationBatchTest {
    static TestServer server;
    static TestUsers users;

    @RegisterExtension
    static final ServerExtension lifecycle =
            ServerExtension.withDefaults().then(s -> server = s).then(s -> users = new TestUsers(s));

    @Test
    void creationsWaitingForTheirAccountsTransactionCommitTogetherEachWithItsOwnOutcome() throws Exception {
        TestUser a = users.create();
        String customer = server.createCustomer(a.token());
        String othersCustomer = server.createCustomer(users.create().token());
        InvoiceService invoices = service();
        List<Future<Invoice>> queued = whileTheCounterIsHeld(
                a,
                invoices,
                customer,
                () -> List.of(
                        invoices.create(creation(a, customer, "one")),
                        invoices.create(creation(a, othersCustomer, "not this account's customer")),
                        invoices.create(creation(a, customer, "two")),
                        invoices.create(creation(a, customer, "three"))));

        assertThat(queued.get(0).result().number()).isEqualTo(3);
        assertThat(queued.get(1).cause()).isInstanceOf(AppError.class);
        assertThat(((AppError) queued.get(1).cause()).fieldErrors())
                .extracting(FieldError::field)
                .containsExactly("customerId");
        assertThat(queued.get(2).result().number()).isEqualTo(4);
        assertThat(queued.get(3).result().number()).isEqualTo(5);
        assertThat(transactionStarts(a, List.of(queued.get(0), queued.get(2), queued.get(3))))
                .as("the three went in one transaction")
                .hasSize(1);
        assertThat(auditedNumbers(a)).containsExactly("INV-0001", "INV-0002", "INV-0003", "INV-0004", "INV-0005");
    }

    @Test
    void aCreationTheDatabaseRefusesFailsAloneAndItsNeighboursAreCreatedWithoutAGap() throws Exception {
        TestUser a = users.create();
        String customer = server.createCustomer(a.token());
        InvoiceService invoices = service();
        try (Connection admin = server.env.admin();
                Statement s = admin.createStatement()) {
            s.execute(
                    """
                CREATE OR REPLACE FUNCTION test_refuse_line() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  IF NEW.description = 'refused by the database' THEN RAISE EXCEPTION 'line refused'; END IF;
                  RETURN NEW;
                END $$;
                CREATE TRIGGER test_refuse_line BEFORE INSERT ON invoice_lines
                  FOR EACH ROW EXECUTE FUNCTION test_refuse_line()""");
            try {
                List<Future<Invoice>> queued = whileTheCounterIsHeld(
                        a,
                        invoices,
                        customer,
                        () -> List.of(
                                invoices.create(creation(a, customer, "fine")),
                                invoices.create(creation(a, customer, "refused by the database")),
                                invoices.create(creation(a, customer, "also fine"))));

                assertThat(queued.get(0).result().number()).isEqualTo(3);
                assertThat(queued.get(1).cause())
                        .isInstanceOf(PgException.class)
                        .hasMessageContaining("line refused");
                assertThat(queued.get(2).result().number())
                        .as("the refused one's number handed back")
                        .isEqualTo(4);
            } finally {
                s.execute("DROP TRIGGER test_refuse_line ON invoice_lines; DROP FUNCTION test_refuse_line()");
            }
        }
        assertThat(auditedNumbers(a)).containsExactly("INV-0001", "INV-0002", "INV-0003", "INV-0004");
    }

    /**
     * A batch whose creations fail their references in the first, a middle and the last place:
     * each of the others is answered its own invoice (its own lines, the next numbers in order)
     * and audited under its own id; a batch that all fail takes no number.
     */
    @Test
    void eachCreationOfABatchIsAnsweredItsOwnInvoiceWhereverItsNeighboursFail() throws Exception {
        TestUser a = users.create();
        String customer = server.createCustomer(a.token());
        String othersCustomer = server.createCustomer(users.create().token());
        InvoiceService invoices = service();
        List<Future<Invoice>> queued = whileTheCounterIsHeld(
                a,
                invoices,
                customer,
                () -> List.of(
                        invoices.create(creation(a, othersCustomer, "first, not this account's customer")),
                        invoices.create(creation(a, customer, "alpha")),
                        invoices.create(creation(a, customer, "no such job", UUID.randomUUID())),
                        invoices.create(creation(a, customer, "beta")),
                        invoices.create(creation(a, othersCustomer, "last, not this account's customer"))));

        assertThat(List.of(queued.get(0), queued.get(2), queued.get(4)))
                .extracting(f -> ((AppError) f.cause()).fieldErrors().get(0).field())
                .containsExactly("customerId", "jobId", "customerId");
        Invoice alpha = queued.get(1).result();
        Invoice beta = queued.get(3).result();
        assertThat(List.of(alpha.number(), beta.number())).containsExactly(3, 4);
        assertThat(new JsonObject(alpha.json())
                        .getJsonArray("lines")
                        .getJsonObject(0)
                        .getString("description"))
                .isEqualTo("alpha");
        assertThat(new JsonObject(beta.json())
                        .getJsonArray("lines")
                        .getJsonObject(0)
                        .getString("description"))
                .isEqualTo("beta");
        assertThat(new JsonObject(beta.json()).getString("id"))
                .isEqualTo(beta.id().toString());
        List<Audited> audited = audited(a);
        assertThat(audited).extracting(Audited::number).containsExactly("INV-0001", "INV-0002", "INV-0003", "INV-0004");
        assertThat(audited.subList(2, 4))
                .extracting(Audited::target)
                .containsExactly(alpha.id().toString(), beta.id().toString());

        List<Future<Invoice>> allRefused = whileTheCounterIsHeld(
                a,
                invoices,
                customer,
                5,
                () -> List.of(
                        invoices.create(creation(a, othersCustomer, "refused")),
                        invoices.create(creation(a, customer, "refused too", UUID.randomUUID()))));
        assertThat(allRefused).allMatch(f -> f.cause() instanceof AppError);
        assertThat(TestServer.await(invoices.create(creation(a, customer, "after them")))
                        .number())
                .as("no number taken by the refused batch")
                .isEqualTo(7);
    }

    /**
     * Creates INV-0001, then holds the counter row as another writer would while a second
     * creation (INV-0002) waits for it in the database; {@code meanwhile} queues more behind that
     * one. Returns their outcomes once the row is free and all have settled.
     */
    private static List<Future<Invoice>> whileTheCounterIsHeld(
            TestUser a, InvoiceService invoices, String customer, Supplier<List<Future<Invoice>>> meanwhile)
            throws Exception {
        return whileTheCounterIsHeld(a, invoices, customer, 1, meanwhile);
    }

    /** The same from the account's {@code first}th invoice on. */
    private static List<Future<Invoice>> whileTheCounterIsHeld(
            TestUser a, InvoiceService invoices, String customer, int first, Supplier<List<Future<Invoice>>> meanwhile)
            throws Exception {
        assertThat(TestServer.await(invoices.create(creation(a, customer, "first")))
                        .number())
                .isEqualTo(first);
        try (Connection app = server.env.asAppIn(a.accountId())) {
            try (Statement s = app.createStatement()) {
                s.execute("UPDATE invoice_counters SET last_number = last_number");
            }
            Future<Invoice> inFlight = invoices.create(creation(a, customer, "in flight"));
            server.env.awaitLockWait("invoice_number_all");
            List<Future<Invoice>> queued = meanwhile.get();
            assertThat(queued).noneMatch(Future::isComplete);
            app.rollback();
            assertThat(TestServer.await(inFlight).number()).isEqualTo(first + 1);
            TestServer.await(Future.join(new ArrayList<>(queued)).otherwiseEmpty());
            return queued;
        }
    }

    private static InvoiceService service() {
        return new InvoiceService(server.main.db(), new AuditLog(server.vertx.eventBus()));
    }

    private static InvoiceService.CreateInvoice creation(TestUser user, String customer, String description) {
        return creation(user, customer, description, null);
    }

    private static InvoiceService.CreateInvoice creation(TestUser user, String customer, String description, UUID job) {
        Principal me =
                new Principal(user.userId(), user.accountId(), user.sessionId(), user.email(), true, Optional.empty());
        JsonObject body = new JsonObject()
                .put("customerId", customer)
                .put("lines", new JsonArray().add(line(description, 1, 100)));
        if (job != null) {
            body.put("jobId", job.toString());
        }
        return new InvoiceService.CreateInvoice(
                new InvoiceService.Caller(me, new ClientInfo.Client("127.0.0.1", "test")),
                InvoiceInput.forCreate(JsonInput.of(body)));
    }

    /** The distinct transaction start times (created_at is now()) of {@code created}. */
    private static List<String> transactionStarts(TestUser a, List<Future<Invoice>> created) throws Exception {
        List<String> starts = new ArrayList<>();
        try (Connection c = server.env.asAppIn(a.accountId());
                Statement s = c.createStatement()) {
            List<String> ids =
                    created.stream().map(f -> "'" + f.result().id() + "'").toList();
            try (ResultSet rs = s.executeQuery(
                    "SELECT DISTINCT created_at::text FROM invoices WHERE id IN (" + String.join(",", ids) + ")")) {
                while (rs.next()) {
                    starts.add(rs.getString(1));
                }
            }
        }
        return starts;
    }

    private static List<String> auditedNumbers(TestUser a) throws Exception {
        return audited(a).stream().map(Audited::number).toList();
    }

    /** An invoice.created entry: the number it records and its target, the invoice's id. */
    private record Audited(String number, String target) {}

    private static List<Audited> audited(TestUser a) throws Exception {
        List<Audited> entries = new ArrayList<>();
        try (Connection c = server.env.admin();
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(
                        "SELECT details->>'number', target_id, host(ip), user_agent, actor_id, target_type FROM audit_log"
                                + " WHERE account_id = '" + a.accountId()
                                + "' AND action = 'invoice.created' ORDER BY id")) {
            while (rs.next()) {
                entries.add(new Audited(rs.getString(1), rs.getString(2)));
                // Entries appended together carry what one appended alone does.
                assertThat(List.of(rs.getString(3), rs.getString(4), rs.getString(5), rs.getString(6)))
                        .containsExactly("127.0.0.1", "test", a.userId().toString(), "invoice");
            }
        }
        // In the order of the entries' ids: a transaction's entries go into the chain in the order its
        // creations were numbered.
        return entries;
    }
}
