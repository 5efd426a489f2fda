package uk.co.tradersflow.data.invoices;

import static io.vertx.core.http.HttpMethod.GET;
import static io.vertx.core.http.HttpMethod.PATCH;
import static io.vertx.core.http.HttpMethod.POST;
import static org.assertj.core.api.Assertions.assertThat;
import static uk.co.tradersflow.support.InvoiceRequests.line;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.support.InvoiceReplies;
import uk.co.tradersflow.support.Pages;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.Sql;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

class InvoiceRoutesTest {
    static TestServer server;
    static TestUsers users;

    @RegisterExtension
    static final ServerExtension lifecycle =
            ServerExtension.withDefaults().then(s -> server = s).then(s -> users = new TestUsers(s));

    private static HttpResponse<Buffer> create(TestUser user, JsonObject body) {
        return server.send(POST, "/api/v1/invoices", user.token(), body);
    }

    @Test
    void totalIsComputedByTheServerFromLinesRoundingEachLineHalfUp() {
        TestUser a = users.create();
        HttpResponse<Buffer> r = create(
                a,
                new JsonObject()
                        .put("customerId", server.createCustomer(a.token()))
                        .put("dueDate", "2026-12-31")
                        .put("totalPence", 1)
                        .put(
                                "lines",
                                new JsonArray()
                                        .add(line("Labour", 2.5, 4500))
                                        .add(line("Copper pipe", 3, 333))
                                        .add(line("Fitting", 0.33, 101))));
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
        JsonObject invoice = r.bodyAsJsonObject();
        // 2.5 × 4500 = 11250; 3 × 333 = 999; 0.33 × 101 = 33.33 → 33
        assertThat(invoice.getLong("totalPence")).isEqualTo(11250 + 999 + 33);
        assertThat(invoice.getString("status")).isEqualTo("draft");
        assertThat(invoice.getString("currency")).isEqualTo("GBP");
        assertThat(invoice.getString("number")).isEqualTo("INV-0001");
        assertThat(invoice.getString("dueDate")).isEqualTo("2026-12-31");
        assertThat(invoice.getJsonArray("lines")).hasSize(3);
        assertThat(invoice.getJsonArray("lines").getJsonObject(0).getString("description"))
                .isEqualTo("Labour");
    }

    @Test
    void concurrentCreationsGetGapFreeNumbersPerAccount() {
        TestUser a = users.create();
        TestUser b = users.create();
        String ca = server.createCustomer(a.token());
        String cb = server.createCustomer(b.token());
        List<Future<HttpResponse<Buffer>>> sends = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            sends.add(server.request(POST, "/api/v1/invoices", a.token())
                    .sendJsonObject(new JsonObject().put("customerId", ca)));
            sends.add(server.request(POST, "/api/v1/invoices", b.token())
                    .sendJsonObject(new JsonObject().put("customerId", cb)));
        }
        TestServer.await(Future.all(sends));
        TreeSet<String> numbersA = new TreeSet<>();
        TreeSet<String> numbersB = new TreeSet<>();
        for (int i = 0; i < sends.size(); i++) {
            HttpResponse<Buffer> r = sends.get(i).result();
            assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
            (i % 2 == 0 ? numbersA : numbersB).add(r.bodyAsJsonObject().getString("number"));
        }
        List<String> expected = new ArrayList<>();
        for (int n = 1; n <= 20; n++) {
            expected.add(String.format("INV-%04d", n));
        }
        assertThat(numbersA).containsExactlyElementsOf(expected);
        assertThat(numbersB).containsExactlyElementsOf(expected);
    }

    @Test
    void aRejectedCreationDoesNotUseUpANumber() {
        TestUser a = users.create();
        String ca = server.createCustomer(a.token());
        assertThat(numberOfNewInvoice(a, ca)).isEqualTo("INV-0001");
        // Passes validation, then fails in the database (unknown job): its insert takes no number.
        HttpResponse<Buffer> failed = create(
                a,
                new JsonObject()
                        .put("customerId", ca)
                        .put("jobId", java.util.UUID.randomUUID().toString()));
        assertThat(failed.statusCode()).isEqualTo(422);
        assertThat(numberOfNewInvoice(a, ca)).isEqualTo("INV-0002");
    }

    @Test
    void aCreationRolledBackAfterTakingANumberHandsItBackToTheQueuedOne() throws Exception {
        TestUser a = users.create();
        String ca = server.createCustomer(a.token());
        assertThat(numberOfNewInvoice(a, ca)).isEqualTo("INV-0001");
        try (Connection app = server.env.asAppIn(a.accountId())) {
            try (Statement s = app.createStatement()) {
                // Another creation in flight: it has taken number 2 and holds the counter row.
                s.execute("UPDATE invoice_counters SET last_number = last_number + 1");
            }
            Future<HttpResponse<Buffer>> queued = server.request(POST, "/api/v1/invoices", a.token())
                    .sendJsonObject(new JsonObject().put("customerId", ca));
            server.env.awaitLockWait("invoice_number_all");
            assertThat(queued.isComplete())
                    .as("the API creation queues behind the counter row")
                    .isFalse();
            app.rollback();
            HttpResponse<Buffer> r = TestServer.await(queued);
            assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
            assertThat(r.bodyAsJsonObject().getString("number"))
                    .as("the rolled-back number is reused")
                    .isEqualTo("INV-0002");
        }
        assertThat(numberOfNewInvoice(a, ca)).isEqualTo("INV-0003");
    }

    @Test
    void lineErrorsNameTheLineAndField() {
        TestUser a = users.create();
        HttpResponse<Buffer> r = create(
                a,
                new JsonObject()
                        .put("customerId", server.createCustomer(a.token()))
                        .put("currency", "pounds")
                        .put(
                                "lines",
                                new JsonArray()
                                        .add(line("ok", 1, 100))
                                        .add(line("", 1.234, -5))
                                        .add("not an object")));
        assertThat(r.statusCode()).isEqualTo(422);
        List<String> fields = new ArrayList<>();
        r.bodyAsJsonObject().getJsonArray("errors").forEach(e -> fields.add(((JsonObject) e).getString("field")));
        assertThat(fields)
                .contains("currency", "lines[1].description", "lines[1].quantity", "lines[1].unitPence", "lines[2]");
    }

    @Test
    void onlyADraftCanChangeAndVoidingIsTheOnlyClientTransition() throws Exception {
        TestUser a = users.create();
        String ca = server.createCustomer(a.token());
        String id = create(
                        a,
                        new JsonObject()
                                .put("customerId", ca)
                                .put("lines", new JsonArray().add(line("Call-out", 1, 6000))))
                .bodyAsJsonObject()
                .getString("id");
        HttpResponse<Buffer> edited = server.send(
                PATCH,
                "/api/v1/invoices/" + id,
                a.token(),
                new JsonObject()
                        .put(
                                "lines",
                                new JsonArray().add(line("Call-out", 1, 6000)).add(line("Parts", 2, 1250))));
        assertThat(edited.statusCode()).isEqualTo(200);
        assertThat(edited.bodyAsJsonObject().getLong("totalPence")).isEqualTo(8500);
        assertThat(server.send(PATCH, "/api/v1/invoices/" + id, a.token(), new JsonObject().put("status", "paid"))
                        .statusCode())
                .isEqualTo(422);

        try (Connection c = server.env.admin()) {
            InvoiceReplies.write(c, tx -> tx.createStatement()
                    .executeUpdate("UPDATE invoices SET status = 'sent' WHERE id = '" + id + "'"));
        }
        HttpResponse<Buffer> refused = server.send(
                PATCH,
                "/api/v1/invoices/" + id,
                a.token(),
                new JsonObject().put("lines", new JsonArray().add(line("Cheaper", 1, 1))));
        assertThat(refused.statusCode()).isEqualTo(409);
        HttpResponse<Buffer> voided =
                server.send(PATCH, "/api/v1/invoices/" + id, a.token(), new JsonObject().put("status", "void"));
        assertThat(voided.statusCode()).isEqualTo(200);
        assertThat(voided.bodyAsJsonObject().getString("status")).isEqualTo("void");
        assertThat(server.send(PATCH, "/api/v1/invoices/" + id, a.token(), new JsonObject().put("status", "void"))
                        .statusCode())
                .isEqualTo(409);
        assertThat(Sql.admin().count("SELECT version FROM invoices WHERE id = '" + id + "'"))
                .as("each customer-visible change bumps the version")
                .isEqualTo(3);
    }

    /** A PATCH naming nothing it may change is no new version: that would retire the payment link the customer holds. */
    @Test
    void aPatchThatChangesNothingLeavesTheVersionTheLinkAndTheAuditLogAlone() throws Exception {
        TestUser a = users.create();
        String id = create(
                        a,
                        new JsonObject()
                                .put("customerId", server.createCustomer(a.token()))
                                .put("lines", new JsonArray().add(line("Call-out", 1, 6000))))
                .bodyAsJsonObject()
                .getString("id");
        try (Connection c = server.env.admin()) {
            InvoiceReplies.write(c, tx -> tx.createStatement()
                    .executeUpdate(
                            "UPDATE invoices SET status = 'sent', payment_url = 'https://buy.stripe.com/live1' WHERE id = '"
                                    + id + "'"));
        }
        for (JsonObject body : List.of(new JsonObject(), new JsonObject().put("notes", "unknown fields are ignored"))) {
            HttpResponse<Buffer> r = server.send(PATCH, "/api/v1/invoices/" + id, a.token(), body);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.bodyAsJsonObject().getString("paymentUrl")).isEqualTo("https://buy.stripe.com/live1");
        }
        assertThat(Sql.admin().count("SELECT version FROM invoices WHERE id = '" + id + "'"))
                .isEqualTo(1);
        assertThat(Sql.admin()
                        .count("SELECT count(*) FROM audit_log WHERE target_id = '" + id
                                + "' AND action = 'invoice.updated'"))
                .isZero();
    }

    @Test
    void aMissingNullOrBlankCustomerOrAnOverflowingQuantityIs422NotA500() {
        TestUser a = users.create();
        for (JsonObject body : List.of(
                new JsonObject(), new JsonObject().putNull("customerId"), new JsonObject().put("customerId", " "))) {
            HttpResponse<Buffer> r = create(a, body);
            assertThat(r.statusCode()).as(body.encode()).isEqualTo(422);
            assertThat(r.bodyAsJsonObject()
                            .getJsonArray("errors")
                            .getJsonObject(0)
                            .getString("field"))
                    .isEqualTo("customerId");
        }
        HttpResponse<Buffer> huge = TestServer.await(server.request(POST, "/api/v1/invoices", a.token())
                .putHeader("Content-Type", "application/json")
                .sendBuffer(Buffer.buffer("{\"customerId\":\"" + server.createCustomer(a.token())
                        + "\",\"lines\":[{\"description\":\"x\",\"quantity\":1e400,\"unitPence\":1}]}")));
        assertThat(huge.statusCode()).isEqualTo(422);
        assertThat(huge.bodyAsJsonObject()
                        .getJsonArray("errors")
                        .getJsonObject(0)
                        .getString("field"))
                .isEqualTo("lines[0].quantity");
    }

    @Test
    void dueDatesOutsideTheYears1900To2999OrNotYyyyMmDdAre422AndCreateNothing() throws Exception {
        TestUser a = users.create();
        String customer = server.createCustomer(a.token());
        for (String bad : List.of(
                "0000-01-01",
                "10000-01-01",
                "+10000-01-01",
                "1899-12-31",
                "3000-01-01",
                "2026-02-30",
                "2026-1-05",
                "26-01-05",
                "2026-01-05T00:00:00Z")) {
            HttpResponse<Buffer> r =
                    create(a, new JsonObject().put("customerId", customer).put("dueDate", bad));
            assertThat(r.statusCode()).as(bad + ": " + r.bodyAsString()).isEqualTo(422);
            assertThat(r.bodyAsJsonObject()
                            .getJsonArray("errors")
                            .getJsonObject(0)
                            .getString("field"))
                    .as(bad)
                    .isEqualTo("dueDate");
        }
        assertThat(Sql.admin().count("SELECT count(*) FROM invoices WHERE account_id = ?", a.accountId()))
                .as("no invoice was created")
                .isZero();
        for (String good : List.of("1900-01-01", "2999-12-31", "2028-02-29")) {
            HttpResponse<Buffer> r =
                    create(a, new JsonObject().put("customerId", customer).put("dueDate", good));
            assertThat(r.statusCode()).as(good + ": " + r.bodyAsString()).isEqualTo(201);
            assertThat(r.bodyAsJsonObject().getString("dueDate")).isEqualTo(good);
        }
        String id = create(a, new JsonObject().put("customerId", customer))
                .bodyAsJsonObject()
                .getString("id");
        HttpResponse<Buffer> patched =
                server.send(PATCH, "/api/v1/invoices/" + id, a.token(), new JsonObject().put("dueDate", "0000-01-01"));
        assertThat(patched.statusCode()).as(patched.bodyAsString()).isEqualTo(422);
    }

    /** Each line is within its limits, but together they pass £1bn: refused before JavaScript clients lose precision. */
    @Test
    void aTotalAboveOneBillionPoundsIs422() {
        TestUser a = users.create();
        JsonArray lines = new JsonArray();
        for (int i = 0; i < 11; i++) {
            lines.add(line("Tower block " + i, 1, 10_000_000_000L));
        }
        HttpResponse<Buffer> r = create(
                a,
                new JsonObject()
                        .put("customerId", server.createCustomer(a.token()))
                        .put("lines", lines));
        assertThat(r.statusCode()).isEqualTo(422);
        assertThat(r.bodyAsJsonObject().getJsonArray("errors").getJsonObject(0).getString("field"))
                .isEqualTo("lines");
        assertThat(create(
                                a,
                                new JsonObject()
                                        .put("customerId", server.createCustomer(a.token()))
                                        .put("lines", new JsonArray().add(line("Tower block", 1, 10_000_000_000L))))
                        .statusCode())
                .isEqualTo(201);
    }

    /** The page is written from stored texts (V025) and read through invoice_page (V024): its cursor must walk every invoice once. */
    @Test
    void pagesWalkEveryInvoiceNewestFirstThroughTheCursorWithTheFilterOnEachPage() {
        TestUser a = users.create();
        String ca = server.createCustomer(a.token());
        List<String> newestFirst = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            newestFirst.add(
                    0,
                    create(a, new JsonObject().put("customerId", ca))
                            .bodyAsJsonObject()
                            .getString("id"));
        }
        server.send(PATCH, "/api/v1/invoices/" + newestFirst.get(0), a.token(), new JsonObject().put("status", "void"));
        server.send(PATCH, "/api/v1/invoices/" + newestFirst.get(3), a.token(), new JsonObject().put("status", "void"));
        assertThat(Pages.ids(server, a.token(), "/api/v1/invoices", 2)).containsExactlyElementsOf(newestFirst);
        assertThat(Pages.ids(server, a.token(), "/api/v1/invoices?status=void", 1))
                .containsExactly(newestFirst.get(0), newestFirst.get(3));
        assertThat(Pages.ids(server, a.token(), "/api/v1/invoices?status=draft", 2))
                .containsExactly(newestFirst.get(1), newestFirst.get(2), newestFirst.get(4));
    }

    @Test
    void listsAreNewestFirstFilteredByStatusAndOnlyTheCallersOwn() throws Exception {
        TestUser a = users.create();
        TestUser b = users.create();
        String ca = server.createCustomer(a.token());
        String first = create(a, new JsonObject().put("customerId", ca))
                .bodyAsJsonObject()
                .getString("id");
        String second = create(a, new JsonObject().put("customerId", ca))
                .bodyAsJsonObject()
                .getString("id");
        server.send(PATCH, "/api/v1/invoices/" + first, a.token(), new JsonObject().put("status", "void"));
        JsonArray all = server.send(GET, "/api/v1/invoices", a.token())
                .bodyAsJsonObject()
                .getJsonArray("items");
        assertThat(all.stream().map(o -> ((JsonObject) o).getString("id"))).containsExactly(second, first);
        JsonArray voided = server.send(GET, "/api/v1/invoices?status=void", a.token())
                .bodyAsJsonObject()
                .getJsonArray("items");
        assertThat(voided.stream().map(o -> ((JsonObject) o).getString("id"))).containsExactly(first);
        assertThat(server.send(GET, "/api/v1/invoices", b.token())
                        .bodyAsJsonObject()
                        .getJsonArray("items"))
                .isEmpty();
        assertThat(server.send(GET, "/api/v1/invoices/" + first, b.token()).statusCode())
                .isEqualTo(404);
        assertThat(server.send(PATCH, "/api/v1/invoices/" + first, b.token(), new JsonObject().put("status", "void"))
                        .statusCode())
                .isEqualTo(404);
        HttpResponse<Buffer> foreign = create(b, new JsonObject().put("customerId", ca));
        assertThat(foreign.statusCode()).as("B cannot bill A's customer").isEqualTo(422);
        assertThat(foreign.bodyAsJsonObject()
                        .getJsonArray("errors")
                        .getJsonObject(0)
                        .getString("field"))
                .isEqualTo("customerId");
        String aJob = server.create(
                "/api/v1/jobs",
                a.token(),
                new JsonObject().put("title", "A's job").put("customerId", ca));
        String cb = server.createCustomer(b.token());
        HttpResponse<Buffer> foreignJob =
                create(b, new JsonObject().put("customerId", cb).put("jobId", aJob));
        assertThat(foreignJob.statusCode()).as("B cannot bill A's job").isEqualTo(422);
        assertThat(foreignJob
                        .bodyAsJsonObject()
                        .getJsonArray("errors")
                        .getJsonObject(0)
                        .getString("field"))
                .isEqualTo("jobId");
        JsonObject bCreated = create(b, new JsonObject().put("customerId", cb)).bodyAsJsonObject();
        assertThat(bCreated.getString("number"))
                .as("B's refused creations wrote nothing and took no number")
                .isEqualTo("INV-0001");
        String bInvoice = bCreated.getString("id");
        assertThat(server.send(PATCH, "/api/v1/invoices/" + bInvoice, b.token(), new JsonObject().put("customerId", ca))
                        .statusCode())
                .as("B cannot move its invoice onto A's customer")
                .isEqualTo(422);
        assertThat(Sql.admin().strings("SELECT action FROM audit_log WHERE target_id = '" + first + "' ORDER BY id"))
                .containsExactly("invoice.created", "invoice.voided");
    }

    /** Creates an invoice for {@code customer} and answers the number it was given. */
    private static String numberOfNewInvoice(TestUser user, String customer) {
        return create(user, new JsonObject().put("customerId", customer))
                .bodyAsJsonObject()
                .getString("number");
    }
}
