package uk.co.tradersflow.data.customers;

import static io.vertx.core.http.HttpMethod.DELETE;
import static io.vertx.core.http.HttpMethod.GET;
import static io.vertx.core.http.HttpMethod.PATCH;
import static io.vertx.core.http.HttpMethod.POST;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.Sql;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

class CustomerRoutesTest {
    static TestServer server;
    static TestUsers users;

    @RegisterExtension
    static final ServerExtension lifecycle =
            ServerExtension.withDefaults().then(s -> server = s).then(s -> users = new TestUsers(s));

    private static JsonObject create(TestUser user, String name) {
        HttpResponse<Buffer> r = server.send(
                POST,
                "/api/v1/customers",
                user.token(),
                new JsonObject()
                        .put("name", name)
                        .put("email", "c@example.test")
                        .put("phone", "07700 900000"));
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
        return r.bodyAsJsonObject();
    }

    @Test
    void createdCustomerIsReturnedWithServerFieldsAndCanBeReadBack() {
        TestUser a = users.create();
        JsonObject created = create(a, "Mrs Patel");
        assertThat(created.getString("id")).isNotBlank();
        assertThat(created.getString("createdAt")).endsWith("Z");
        HttpResponse<Buffer> read = server.send(GET, "/api/v1/customers/" + created.getString("id"), a.token());
        assertThat(read.statusCode()).isEqualTo(200);
        assertThat(read.bodyAsJsonObject().getString("name")).isEqualTo("Mrs Patel");
        assertThat(read.getHeader("Content-Type")).startsWith("application/json");
        assertThat(read.getHeader("Cache-Control")).isEqualTo("no-store");
    }

    @Test
    void invalidFieldsAreAllReportedAsOne422AndNothingIsStored() {
        TestUser a = users.create();
        HttpResponse<Buffer> r = server.send(
                POST,
                "/api/v1/customers",
                a.token(),
                new JsonObject().put("name", "").put("email", "not-an-email").put("phone", 12));
        assertThat(r.statusCode()).isEqualTo(422);
        assertThat(r.getHeader("Content-Type")).startsWith("application/problem+json");
        JsonObject problem = r.bodyAsJsonObject();
        assertThat(problem.getString("code")).isEqualTo("validation_failed");
        Set<String> fields = new HashSet<>();
        problem.getJsonArray("errors").forEach(e -> fields.add(((JsonObject) e).getString("field")));
        assertThat(fields).containsExactlyInAnyOrder("name", "email", "phone");
        assertThat(server.send(GET, "/api/v1/customers", a.token())
                        .bodyAsJsonObject()
                        .getJsonArray("items"))
                .isEmpty();
    }

    @Test
    void malformedJsonIs400AndWrongContentTypeIs415() {
        TestUser a = users.create();
        HttpResponse<Buffer> malformed = TestServer.await(server.request(POST, "/api/v1/customers", a.token())
                .putHeader("Content-Type", "application/json")
                .sendBuffer(Buffer.buffer("{\"name\":")));
        assertThat(malformed.statusCode()).isEqualTo(400);
        assertThat(malformed.bodyAsJsonObject().getString("code")).isEqualTo("malformed_json");
        HttpResponse<Buffer> text = TestServer.await(server.request(POST, "/api/v1/customers", a.token())
                .putHeader("Content-Type", "text/plain")
                .sendBuffer(Buffer.buffer("name=x")));
        assertThat(text.statusCode()).isEqualTo(415);
    }

    @Test
    void patchChangesOnlyTheFieldsSentAndNullClearsOne() {
        TestUser a = users.create();
        String id = create(a, "Bob").getString("id");
        HttpResponse<Buffer> r = server.send(
                PATCH,
                "/api/v1/customers/" + id,
                a.token(),
                new JsonObject().put("notes", "Side gate code 1234").putNull("phone"));
        assertThat(r.statusCode()).isEqualTo(200);
        JsonObject after = r.bodyAsJsonObject();
        assertThat(after.getString("name")).isEqualTo("Bob");
        assertThat(after.getString("email")).isEqualTo("c@example.test");
        assertThat(after.getString("phone")).isNull();
        assertThat(after.getString("notes")).isEqualTo("Side gate code 1234");
    }

    @Test
    void anotherAccountCannotReadListChangeOrDeleteTheCustomer() {
        TestUser a = users.create();
        TestUser b = users.create();
        String id = create(a, "Private").getString("id");
        assertThat(server.send(GET, "/api/v1/customers/" + id, b.token()).statusCode())
                .isEqualTo(404);
        assertThat(server.send(PATCH, "/api/v1/customers/" + id, b.token(), new JsonObject().put("name", "x"))
                        .statusCode())
                .isEqualTo(404);
        assertThat(server.send(DELETE, "/api/v1/customers/" + id, b.token()).statusCode())
                .isEqualTo(404);
        assertThat(server.send(GET, "/api/v1/customers", b.token())
                        .bodyAsJsonObject()
                        .getJsonArray("items"))
                .isEmpty();
        assertThat(server.send(GET, "/api/v1/customers/" + id, a.token())
                        .bodyAsJsonObject()
                        .getString("name"))
                .isEqualTo("Private");
    }

    @Test
    void listsPageNewestFirstWithAnOpaqueCursor() {
        TestUser a = users.create();
        for (int i = 0; i < 5; i++) {
            create(a, "Customer " + i);
        }
        JsonObject page1 =
                server.send(GET, "/api/v1/customers?limit=2", a.token()).bodyAsJsonObject();
        JsonArray items1 = page1.getJsonArray("items");
        assertThat(items1).hasSize(2);
        assertThat(items1.getJsonObject(0).getString("name")).isEqualTo("Customer 4");
        String cursor = page1.getString("nextCursor");
        assertThat(cursor).isNotBlank();
        JsonObject page2 = server.send(GET, "/api/v1/customers?limit=2&cursor=" + cursor, a.token())
                .bodyAsJsonObject();
        assertThat(page2.getJsonArray("items").getJsonObject(0).getString("name"))
                .isEqualTo("Customer 2");
        JsonObject page3 = server.send(
                        GET, "/api/v1/customers?limit=2&cursor=" + page2.getString("nextCursor"), a.token())
                .bodyAsJsonObject();
        assertThat(page3.getJsonArray("items")).hasSize(1);
        assertThat(page3.getString("nextCursor")).isNull();
        assertThat(server.send(GET, "/api/v1/customers?limit=0", a.token()).statusCode())
                .isEqualTo(400);
        assertThat(server.send(GET, "/api/v1/customers?limit=101", a.token()).statusCode())
                .isEqualTo(400);
        assertThat(server.send(GET, "/api/v1/customers?cursor=garbage!", a.token())
                        .statusCode())
                .isEqualTo(400);
    }

    @Test
    void deleteRemovesTheCustomerAndWritesAnAuditEntry() throws Exception {
        TestUser a = users.create();
        String id = create(a, "Gone soon").getString("id");
        assertThat(server.send(DELETE, "/api/v1/customers/" + id, a.token()).statusCode())
                .isEqualTo(204);
        assertThat(server.send(GET, "/api/v1/customers/" + id, a.token()).statusCode())
                .isEqualTo(404);
        assertThat(Sql.admin().strings("SELECT action FROM audit_log WHERE target_id = '" + id + "' ORDER BY id"))
                .containsExactly("customer.created", "customer.deleted");
    }
}
