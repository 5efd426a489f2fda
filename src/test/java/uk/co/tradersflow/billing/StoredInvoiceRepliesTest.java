package uk.co.tradersflow.billing;

import static io.vertx.core.http.HttpMethod.GET;
import static io.vertx.core.http.HttpMethod.PATCH;
import static io.vertx.core.http.HttpMethod.POST;
import static org.assertj.core.api.Assertions.assertThat;
import static uk.co.tradersflow.billing.BillingFixtures.*;
import static uk.co.tradersflow.support.InvoiceRequests.line;

import com.stripe.Stripe;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import uk.co.tradersflow.support.FakeStripe;
import uk.co.tradersflow.support.OpenApiResponseCheck;
import uk.co.tradersflow.support.TestUsers.TestUser;

/**
 * The reply each invoice row stores ({@code invoices.body_json}, served unparsed by the list and
 * the reads) is an instance of {@code openapi.yaml}'s {@code Invoice} schema, with exactly the
 * schema's fields in its order, after every kind of write: create, update, payment link, send,
 * payment (the Stripe worker) and void. Read straight from the table, so a stored text the API
 * would never be asked for is checked too.
 */
class StoredInvoiceRepliesTest extends FakeStripeServerTest {

    private static final List<String> CONTRACT_FIELDS = new ArrayList<>(OpenApiResponseCheck.component("Invoice")
            .getJsonObject("properties")
            .fieldNames());

    /** The stored reply, checked against the schema and against what a read of the invoice answers. */
    private static JsonObject stored(TestUser u, String id) {
        String text = (String) value(server, "SELECT body_json FROM invoices WHERE id = ?::uuid", id);
        JsonObject reply = new JsonObject(text);
        assertThat(OpenApiResponseCheck.violationsOf("Invoice", reply)).as(text).isEmpty();
        assertThat(new ArrayList<>(reply.fieldNames())).as(text).containsExactlyElementsOf(CONTRACT_FIELDS);
        assertThat(server.send(GET, "/api/v1/invoices/" + id, u.token()).bodyAsJsonObject())
                .isEqualTo(reply);
        return reply;
    }

    @Test
    void everyWriterStoresAReplyTheContractsInvoiceSchemaAccepts() {
        TestUser u = users.create();
        String acct = connectReady(server, fake, u.accountId());
        String customer = server.create(
                "/api/v1/customers",
                u.token(),
                new JsonObject().put("name", "Mrs \"Quoted\" Customer").put("email", "customer@example.test"));
        String job = server.create(
                "/api/v1/jobs",
                u.token(),
                new JsonObject().put("customerId", customer).put("title", "Boiler"));

        HttpResponse<Buffer> created = server.send(
                POST,
                "/api/v1/invoices",
                u.token(),
                new JsonObject()
                        .put("customerId", customer)
                        .put("jobId", job)
                        .put("dueDate", "2027-01-31")
                        .put("lines", new JsonArray().add(line("Labour \u00e9\n\"day\"", 2, 4500))));
        assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
        String id = created.bodyAsJsonObject().getString("id");
        assertThat(stored(u, id).getString("status")).isEqualTo("draft");

        HttpResponse<Buffer> updated = server.send(
                PATCH,
                "/api/v1/invoices/" + id,
                u.token(),
                new JsonObject()
                        .put(
                                "lines",
                                new JsonArray().add(line("Labour", 2, 4500)).add(line("Parts", 1.5, 1999))));
        assertThat(updated.statusCode()).as(updated.bodyAsString()).isEqualTo(200);
        assertThat(stored(u, id).getLong("totalPence")).isEqualTo(11_999);

        HttpResponse<Buffer> link = server.send(POST, "/api/v1/invoices/" + id + "/payment-link", u.token());
        assertThat(link.statusCode()).as(link.bodyAsString()).isEqualTo(200);
        assertThat(stored(u, id).getString("paymentUrl"))
                .isEqualTo(link.bodyAsJsonObject().getString("url"));

        HttpResponse<Buffer> sent = server.send(POST, "/api/v1/invoices/" + id + "/send", u.token());
        assertThat(sent.statusCode()).as(sent.bodyAsString()).isEqualTo(202);
        assertThat(stored(u, id).getString("status")).isEqualTo("sent");

        JsonObject paid = FakeStripe.event(
                "payment_intent.succeeded",
                new JsonObject()
                        .put("id", "pi_" + UUID.randomUUID().toString().replace("-", ""))
                        .put("object", "payment_intent")
                        .put("amount_received", 11_999)
                        .put("currency", "gbp")
                        .put("metadata", new JsonObject().put("tf_invoice_id", id)),
                acct,
                Stripe.API_VERSION);
        deliver(server, paid);
        awaitHandled(server, paid.getString("id"));
        JsonObject afterPayment = stored(u, id);
        assertThat(afterPayment.getString("status")).isEqualTo("paid");
        assertThat(afterPayment.getString("paidAt")).isNotNull();

        String bare = server.create("/api/v1/invoices", u.token(), new JsonObject().put("customerId", customer));
        JsonObject draft = stored(u, bare);
        assertThat(draft.getValue("jobId")).isNull();
        assertThat(draft.getValue("dueDate")).isNull();
        assertThat(draft.getJsonArray("lines")).isEmpty();
        assertThat(server.send(PATCH, "/api/v1/invoices/" + bare, u.token(), new JsonObject().put("status", "void"))
                        .statusCode())
                .isEqualTo(200);
        assertThat(stored(u, bare).getString("status")).isEqualTo("void");
    }

    /** The check itself: a reply the contract does not allow is caught (so the test above can fail). */
    @Test
    void aReplyTheContractDoesNotAllowIsCaught() {
        TestUser u = users.create();
        String id = server.create(
                "/api/v1/invoices", u.token(), new JsonObject().put("customerId", server.createCustomer(u.token())));
        JsonObject reply =
                new JsonObject((String) value(server, "SELECT body_json FROM invoices WHERE id = ?::uuid", id));
        assertThat(OpenApiResponseCheck.violationsOf("Invoice", reply)).isEmpty();
        assertThat(OpenApiResponseCheck.violationsOf("Invoice", reply.copy().put("number", "1")))
                .isNotEmpty();
        assertThat(OpenApiResponseCheck.violationsOf("Invoice", reply.copy().put("status", "overdue")))
                .isNotEmpty();
        assertThat(OpenApiResponseCheck.violationsOf("Invoice", reply.copy().put("totalPence", "100")))
                .isNotEmpty();
        JsonObject missing = reply.copy();
        missing.remove("updatedAt");
        assertThat(OpenApiResponseCheck.violationsOf("Invoice", missing)).isNotEmpty();
    }
}
