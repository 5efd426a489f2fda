package uk.co.tradersflow.support;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The check every test response goes through catches what drifts, and lets through what matches. */
class OpenApiResponseCheckTest {
    static final String JSON = "application/json; charset=utf-8";
    static final String PROBLEM = "application/problem+json";
    static final Buffer CUSTOMER = new JsonObject()
            .put("id", "0b6f4c1e-35a2-4a8e-9f0e-5f1d7c1c1a11")
            .put("name", "Ann")
            .put("createdAt", "2026-12-06T08:00:00Z")
            .put("updatedAt", "2026-12-06T08:00:00Z")
            .toBuffer();
    static final Buffer NOT_FOUND = new JsonObject()
            .put("type", "https://docs.tradersflow.co.uk/problems/not-found")
            .put("title", "Not found")
            .put("status", 404)
            .put("detail", "No such thing")
            .put("code", "not_found")
            .toBuffer();

    @Test
    void aResponseAsDocumentedPasses() {
        assertThat(OpenApiResponseCheck.check(
                        "GET", "/api/v1/customers/0b6f4c1e-35a2-4a8e-9f0e-5f1d7c1c1a11", 200, JSON, CUSTOMER, false))
                .isEmpty();
        assertThat(OpenApiResponseCheck.check(
                        "GET",
                        "/api/v1/customers/0b6f4c1e-35a2-4a8e-9f0e-5f1d7c1c1a11",
                        404,
                        PROBLEM,
                        NOT_FOUND,
                        false))
                .isEmpty();
        assertThat(OpenApiResponseCheck.check("GET", "/api/v1/nothing-here", 404, PROBLEM, NOT_FOUND, false))
                .as("an unknown path")
                .isEmpty();
    }

    @Test
    void aMissingRequiredFieldIsCaught() {
        JsonObject body = CUSTOMER.toJsonObject().copy();
        body.remove("updatedAt");
        assertThat(OpenApiResponseCheck.check(
                        "GET",
                        "/api/v1/customers/0b6f4c1e-35a2-4a8e-9f0e-5f1d7c1c1a11",
                        200,
                        JSON,
                        body.toBuffer(),
                        false))
                .get()
                .asString()
                .contains("does not match GET /api/v1/customers/{id} 200")
                .contains("updatedAt");
    }

    @Test
    void anUndocumentedStatusContentTypeOrPathIsCaught() {
        assertThat(OpenApiResponseCheck.check(
                        "GET", "/api/v1/customers/0b6f4c1e-35a2-4a8e-9f0e-5f1d7c1c1a11", 201, JSON, CUSTOMER, false))
                .get()
                .asString()
                .contains("status 201 is not among");
        assertThat(OpenApiResponseCheck.check(
                        "GET",
                        "/api/v1/customers/0b6f4c1e-35a2-4a8e-9f0e-5f1d7c1c1a11",
                        200,
                        "text/html",
                        CUSTOMER,
                        false))
                .get()
                .asString()
                .contains("content type text/html");
        assertThat(OpenApiResponseCheck.check("GET", "/api/v1/undocumented", 200, JSON, CUSTOMER, false))
                .get()
                .asString()
                .contains("the path is not in the document");
    }

    @Test
    void anInstalledClientRecordsWhatItReceivesThatDisagreesWithTheDocument() {
        io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
        try {
            // A stand-in server whose liveness answer breaks the document (status must be UP).
            io.vertx.core.http.HttpServer fake = TestServer.await(vertx.createHttpServer()
                    .requestHandler(req ->
                            req.response().putHeader("Content-Type", JSON).end("{\"status\":\"SIDEWAYS\"}"))
                    .listen(0, "127.0.0.1"));
            io.vertx.ext.web.client.WebClient client = io.vertx.ext.web.client.WebClient.create(
                    vertx,
                    new io.vertx.ext.web.client.WebClientOptions()
                            .setDefaultHost("127.0.0.1")
                            .setDefaultPort(fake.actualPort()));
            OpenApiResponseCheck.install(client, fake.actualPort());
            int before = OpenApiResponseCheck.violations().size();
            TestServer.await(client.request(HttpMethod.GET, "/health/live").send());
            List<String> after = OpenApiResponseCheck.violations();
            assertThat(after).hasSize(before + 1);
            assertThat(after.get(before))
                    .startsWith("GET /health/live -> 200: the body does not match GET /health/live 200");
        } finally {
            TestServer.await(vertx.close());
        }
    }
}
