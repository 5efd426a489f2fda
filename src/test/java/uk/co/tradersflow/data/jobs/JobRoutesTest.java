package uk.co.tradersflow.data.jobs;

import static io.vertx.core.http.HttpMethod.DELETE;
import static io.vertx.core.http.HttpMethod.GET;
import static io.vertx.core.http.HttpMethod.PATCH;
import static io.vertx.core.http.HttpMethod.POST;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.support.Pages;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

class JobRoutesTest {
    static TestServer server;
    static TestUsers users;

    @RegisterExtension
    static final ServerExtension lifecycle =
            ServerExtension.withDefaults().then(s -> server = s).then(s -> users = new TestUsers(s));

    private static HttpResponse<Buffer> createJob(TestUser user, JsonObject body) {
        return server.send(POST, "/api/v1/jobs", user.token(), body);
    }

    @Test
    void jobIsCreatedQuotedByDefaultAndReadBack() {
        TestUser a = users.create();
        String customerId = server.createCustomer(a.token());
        HttpResponse<Buffer> r = createJob(
                a,
                new JsonObject()
                        .put("title", "Replace boiler")
                        .put("customerId", customerId)
                        .put("scheduledFor", "2026-12-01T09:00:00Z"));
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
        JsonObject job = r.bodyAsJsonObject();
        assertThat(job.getString("status")).isEqualTo("quoted");
        assertThat(job.getString("customerId")).isEqualTo(customerId);
        assertThat(job.getString("scheduledFor")).isEqualTo("2026-12-01T09:00:00Z");
        assertThat(server.send(GET, "/api/v1/jobs/" + job.getString("id"), a.token())
                        .bodyAsJsonObject()
                        .getString("title"))
                .isEqualTo("Replace boiler");
    }

    @Test
    void aTimeOutsideTheYears1900To9999Is422() {
        TestUser a = users.create();
        for (String when : List.of("+294277-01-01T00:00:00Z", "-9999-01-01T00:00:00Z", "1899-12-31T23:59:59Z")) {
            HttpResponse<Buffer> r = createJob(
                    a,
                    new JsonObject()
                            .put("title", "Far off")
                            .put("customerId", server.createCustomer(a.token()))
                            .put("scheduledFor", when));
            assertThat(r.statusCode()).as(when).isEqualTo(422);
            assertThat(r.bodyAsJsonObject()
                            .getJsonArray("errors")
                            .getJsonObject(0)
                            .getString("field"))
                    .isEqualTo("scheduledFor");
        }
    }

    @Test
    void statusMustBeOneOfTheKnownValues() {
        TestUser a = users.create();
        HttpResponse<Buffer> r = createJob(a, new JsonObject().put("title", "x").put("status", "finished"));
        assertThat(r.statusCode()).isEqualTo(422);
        assertThat(r.bodyAsJsonObject().getJsonArray("errors").getJsonObject(0).getString("field"))
                .isEqualTo("status");
    }

    @Test
    void aJobCannotNameAnotherAccountsCustomer() {
        TestUser a = users.create();
        TestUser b = users.create();
        String bsCustomer = server.createCustomer(b.token());
        HttpResponse<Buffer> r =
                createJob(a, new JsonObject().put("title", "Sneaky").put("customerId", bsCustomer));
        assertThat(r.statusCode()).isEqualTo(422);
        assertThat(r.bodyAsJsonObject().getJsonArray("errors").getJsonObject(0).getString("field"))
                .isEqualTo("customerId");
    }

    @Test
    void patchMovesStatusAndListFiltersByIt() {
        TestUser a = users.create();
        String id = createJob(a, new JsonObject().put("title", "Rewire kitchen"))
                .bodyAsJsonObject()
                .getString("id");
        createJob(a, new JsonObject().put("title", "Quote only"));
        HttpResponse<Buffer> patched =
                server.send(PATCH, "/api/v1/jobs/" + id, a.token(), new JsonObject().put("status", "in_progress"));
        assertThat(patched.statusCode()).isEqualTo(200);
        assertThat(patched.bodyAsJsonObject().getString("status")).isEqualTo("in_progress");
        JsonArray inProgress = server.send(GET, "/api/v1/jobs?status=in_progress", a.token())
                .bodyAsJsonObject()
                .getJsonArray("items");
        assertThat(inProgress).hasSize(1);
        assertThat(inProgress.getJsonObject(0).getString("id")).isEqualTo(id);
        assertThat(server.send(GET, "/api/v1/jobs?status=nonsense", a.token()).statusCode())
                .isEqualTo(400);
    }

    /** Read through job_page (V024): the cursor walks every job once, and the filter holds on every page. */
    @Test
    void pagesWalkEveryJobNewestFirstThroughTheCursorWithTheFilterOnEachPage() {
        TestUser a = users.create();
        List<String> newestFirst = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            newestFirst.add(
                    0,
                    createJob(a, new JsonObject().put("title", "Job " + i))
                            .bodyAsJsonObject()
                            .getString("id"));
        }
        server.send(
                PATCH, "/api/v1/jobs/" + newestFirst.get(1), a.token(), new JsonObject().put("status", "in_progress"));
        server.send(
                PATCH, "/api/v1/jobs/" + newestFirst.get(4), a.token(), new JsonObject().put("status", "in_progress"));
        assertThat(Pages.ids(server, a.token(), "/api/v1/jobs", 2)).containsExactlyElementsOf(newestFirst);
        assertThat(Pages.ids(server, a.token(), "/api/v1/jobs?status=in_progress", 1))
                .containsExactly(newestFirst.get(1), newestFirst.get(4));
    }

    @Test
    void anotherAccountGets404OnEveryJobRoute() {
        TestUser a = users.create();
        TestUser b = users.create();
        String id = createJob(a, new JsonObject().put("title", "Private"))
                .bodyAsJsonObject()
                .getString("id");
        assertThat(server.send(GET, "/api/v1/jobs/" + id, b.token()).statusCode())
                .isEqualTo(404);
        assertThat(server.send(PATCH, "/api/v1/jobs/" + id, b.token(), new JsonObject().put("title", "mine"))
                        .statusCode())
                .isEqualTo(404);
        assertThat(server.send(DELETE, "/api/v1/jobs/" + id, b.token()).statusCode())
                .isEqualTo(404);
        assertThat(server.send(GET, "/api/v1/jobs", b.token())
                        .bodyAsJsonObject()
                        .getJsonArray("items"))
                .isEmpty();
        assertThat(server.send(GET, "/api/v1/jobs/" + id, a.token())
                        .bodyAsJsonObject()
                        .getString("title"))
                .isEqualTo("Private");
    }

    @Test
    void aJobWithInvoicesCannotBeDeletedButAPlainOneCan() {
        TestUser a = users.create();
        String customerId = server.createCustomer(a.token());
        String invoiced = createJob(a, new JsonObject().put("title", "Billed").put("customerId", customerId))
                .bodyAsJsonObject()
                .getString("id");
        String plain = createJob(a, new JsonObject().put("title", "Not billed"))
                .bodyAsJsonObject()
                .getString("id");
        assertThat(server.send(
                                POST,
                                "/api/v1/invoices",
                                a.token(),
                                new JsonObject().put("customerId", customerId).put("jobId", invoiced))
                        .statusCode())
                .isEqualTo(201);
        HttpResponse<Buffer> refused = server.send(DELETE, "/api/v1/jobs/" + invoiced, a.token());
        assertThat(refused.statusCode()).isEqualTo(409);
        assertThat(refused.bodyAsJsonObject().getString("code")).isEqualTo("conflict");
        assertThat(server.send(DELETE, "/api/v1/jobs/" + plain, a.token()).statusCode())
                .isEqualTo(204);
        assertThat(server.send(GET, "/api/v1/jobs/" + plain, a.token()).statusCode())
                .isEqualTo(404);
    }

    @Test
    void createUpdateAndDeleteAreAuditedInTheCallersAccount() throws Exception {
        TestUser a = users.create();
        String id = createJob(a, new JsonObject().put("title", "Audited"))
                .bodyAsJsonObject()
                .getString("id");
        assertThat(server.send(PATCH, "/api/v1/jobs/" + id, a.token(), new JsonObject().put("status", "done"))
                        .statusCode())
                .isEqualTo(200);
        assertThat(server.send(DELETE, "/api/v1/jobs/" + id, a.token()).statusCode())
                .isEqualTo(204);
        java.util.List<String> actions = new java.util.ArrayList<>();
        try (java.sql.Connection c = server.env.admin();
                java.sql.Statement s = c.createStatement();
                java.sql.ResultSet rs = s.executeQuery(
                        "SELECT action, account_id, actor_id, target_type FROM audit_log WHERE target_id = '" + id
                                + "' ORDER BY id")) {
            while (rs.next()) {
                actions.add(rs.getString(1));
                assertThat(rs.getString(2)).isEqualTo(a.accountId().toString());
                assertThat(rs.getString(3)).isEqualTo(a.userId().toString());
                assertThat(rs.getString(4)).isEqualTo("job");
            }
        }
        assertThat(actions).containsExactly("job.created", "job.updated", "job.deleted");
    }
}
