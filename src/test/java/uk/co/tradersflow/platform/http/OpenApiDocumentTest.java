package uk.co.tradersflow.platform.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/** The shipped OpenAPI document parses, is 3.1, and describes every route of the contract. */
class OpenApiDocumentTest {
    /** Contract section 3, one line per method and path, as clients are built against it. */
    static final List<String> CONTRACT_ROUTES = List.of(
            "GET /.well-known/security.txt",
            "GET /health/live",
            "GET /health/ready",
            "GET /metrics",
            "POST /api/v1/auth/signup",
            "POST /api/v1/auth/verify-email",
            "POST /api/v1/auth/login",
            "POST /api/v1/auth/refresh",
            "POST /api/v1/auth/logout",
            "POST /api/v1/auth/logout-all",
            "POST /api/v1/auth/password-reset/request",
            "POST /api/v1/auth/password-reset/confirm",
            "POST /api/v1/auth/password",
            "POST /api/v1/auth/email",
            "POST /api/v1/auth/email/confirm",
            "POST /api/v1/auth/oauth/google",
            "POST /api/v1/auth/oauth/apple",
            "GET /api/v1/auth/signin-link",
            "GET /api/v1/me",
            "GET /api/v1/me/sessions",
            "DELETE /api/v1/me/sessions/{id}",
            "GET /api/v1/me/activity",
            "GET /api/v1/me/export",
            "DELETE /api/v1/me",
            "GET /api/v1/customers",
            "POST /api/v1/customers",
            "GET /api/v1/customers/{id}",
            "PATCH /api/v1/customers/{id}",
            "DELETE /api/v1/customers/{id}",
            "GET /api/v1/jobs",
            "POST /api/v1/jobs",
            "GET /api/v1/jobs/{id}",
            "PATCH /api/v1/jobs/{id}",
            "DELETE /api/v1/jobs/{id}",
            "GET /api/v1/invoices",
            "POST /api/v1/invoices",
            "GET /api/v1/invoices/{id}",
            "PATCH /api/v1/invoices/{id}",
            "POST /api/v1/invoices/{id}/send",
            "POST /api/v1/invoices/{id}/payment-link",
            "POST /api/v1/documents",
            "GET /api/v1/documents",
            "DELETE /api/v1/documents/{id}",
            "GET /api/v1/documents/{id}/url",
            "POST /api/v1/billing/checkout-session",
            "POST /api/v1/billing/portal-session",
            "GET /api/v1/billing/subscription",
            "POST /api/v1/connect/onboarding-link",
            "GET /api/v1/connect/status",
            "POST /webhooks/stripe",
            "POST /webhooks/email",
            "GET /admin/api/accounts",
            "GET /admin/api/accounts/{id}",
            "POST /admin/api/actions",
            "POST /admin/api/actions/{id}/confirm",
            "GET /admin/api/audit",
            "GET /admin/api/audit/verify",
            "GET /admin/api/analytics",
            "GET /admin/api/email/health",
            "GET /admin/api/emails",
            "GET /admin/api/webhooks",
            "POST /admin/api/webhooks/{eventId}/replay");

    /** Routes anyone may call: the document must say so, since bearer auth is the default. */
    static final Set<String> PUBLIC = Set.of(
            "GET /.well-known/security.txt",
            "GET /health/live",
            "GET /health/ready",
            "POST /api/v1/auth/signup",
            "POST /api/v1/auth/verify-email",
            "POST /api/v1/auth/login",
            "POST /api/v1/auth/refresh",
            "POST /api/v1/auth/password-reset/request",
            "POST /api/v1/auth/password-reset/confirm",
            "POST /api/v1/auth/email/confirm",
            "POST /api/v1/auth/oauth/google",
            "POST /api/v1/auth/oauth/apple",
            "GET /api/v1/auth/signin-link",
            "POST /webhooks/stripe",
            "POST /webhooks/email",
            "GET /openapi.yaml",
            "GET /docs",
            "GET /docs/{asset}");

    static Map<String, Object> doc;

    @BeforeAll
    @SuppressWarnings("unchecked")
    static void parse() throws IOException {
        try (InputStream in = OpenApiDocumentTest.class.getResourceAsStream("/openapi.yaml")) {
            assertThat(in).as("openapi.yaml on the classpath").isNotNull();
            doc = (Map<String, Object>) new Yaml(new SafeConstructor(new LoaderOptions())).load(in);
        }
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o) {
        return (Map<String, Object>) o;
    }

    static Map<String, Object> operation(String route) {
        String[] parts = route.split(" ", 2);
        Map<String, Object> path = map(map(doc.get("paths")).get(parts[1]));
        return path == null ? null : map(path.get(parts[0].toLowerCase()));
    }

    @Test
    void itIsOpenApi31WithInfo() {
        assertThat(String.valueOf(doc.get("openapi"))).startsWith("3.1");
        assertThat(map(doc.get("info"))).containsKeys("title", "version");
    }

    @Test
    void itValidatesAgainstTheOpenApi31MetaSchema() {
        // vertx-openapi's own meta-schema check. (Its router cannot serve problem+json responses,
        // so OpenAPIContract.from refuses the document as a router contract; the schema check is the point.)
        io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
        try {
            var version = io.vertx.openapi.contract.OpenAPIVersion.V3_1;
            var json = new io.vertx.core.json.JsonObject(doc).copy();
            var repository = uk.co.tradersflow.support.TestServer.await(version.getRepository(vertx, "app:///"));
            var result = uk.co.tradersflow.support.TestServer.await(version.validateContract(vertx, repository, json));
            assertThat(result.getValid()).as(String.valueOf(result.getErrors())).isTrue();
        } finally {
            vertx.close();
        }
    }

    @Test
    void everyContractRouteIsDescribedWithItsMethod() {
        List<String> missing =
                CONTRACT_ROUTES.stream().filter(r -> operation(r) == null).toList();
        assertThat(missing).isEmpty();
    }

    @Test
    void everyOperationHasAUniqueIdAndResponses() {
        Set<String> ids = new HashSet<>();
        map(doc.get("paths")).forEach((path, item) -> map(item).forEach((method, op) -> {
            if (List.of("get", "post", "put", "patch", "delete").contains(method)) {
                assertThat(map(op)).as(method + " " + path).containsKeys("operationId", "responses");
                assertThat(ids.add((String) map(op).get("operationId")))
                        .as("unique operationId " + map(op).get("operationId"))
                        .isTrue();
            }
        }));
        assertThat(ids).hasSizeGreaterThanOrEqualTo(CONTRACT_ROUTES.size());
    }

    @Test
    void everyOperationHasASummaryAndEveryTagADescription() {
        map(doc.get("paths")).forEach((path, item) -> map(item).forEach((method, op) -> {
            if (List.of("get", "post", "put", "patch", "delete").contains(method)) {
                assertThat((String) map(op).get("summary"))
                        .as(method + " " + path)
                        .isNotBlank();
            }
        }));
        ((List<?>) doc.get("tags")).forEach(tag -> assertThat((String) map(tag).get("description"))
                .as(String.valueOf(tag))
                .isNotBlank());
    }

    @Test
    @SuppressWarnings("unchecked")
    void theDocumentSaysWhatTheServerEnforcesOnInvoicesAndJobs() {
        Map<String, Object> schemas = map(map(doc.get("components")).get("schemas"));
        assertThat((List<Object>) map(schemas.get("Invoice")).get("required")).contains("customerId", "updatedAt");
        assertThat((List<Object>) map(schemas.get("Job")).get("required")).contains("updatedAt");
        Map<String, Object> quantity =
                map(map(map(schemas.get("InvoiceLine")).get("properties")).get("quantity"));
        assertThat(quantity).containsEntry("minimum", 0.01).containsEntry("maximum", 1000000);
        assertThat(String.valueOf(map(doc.get("info")).get("description"))).doesNotContain("API.md");
    }

    @Test
    void bearerIsTheDefaultAndPublicRoutesOptOut() {
        Map<String, Object> schemes = map(map(doc.get("components")).get("securitySchemes"));
        assertThat(map(schemes.get("bearerAuth"))).containsEntry("type", "http").containsEntry("scheme", "bearer");
        assertThat(doc.get("security")).asList().hasSize(1);
        for (String route : PUBLIC) {
            assertThat(operation(route).get("security")).as(route).isEqualTo(List.of());
        }
        for (String route : CONTRACT_ROUTES) {
            if (!PUBLIC.contains(route) && !route.equals("GET /metrics")) {
                assertThat(operation(route).get("security"))
                        .as(route + " inherits bearer auth")
                        .isNull();
            }
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void theProblemSchemaAndListEnvelopeMatchTheConventions() {
        Map<String, Object> schemas = map(map(doc.get("components")).get("schemas"));
        Map<String, Object> problem = map(schemas.get("Problem"));
        assertThat((List<Object>) problem.get("required"))
                .containsExactlyInAnyOrder("type", "title", "status", "detail", "code");
        assertThat(map(problem.get("properties"))).containsKey("errors");
        Map<String, Object> list = map(schemas.get("ListEnvelope"));
        assertThat((List<Object>) list.get("required")).containsExactlyInAnyOrder("items", "nextCursor");
        // Every error response is problem+json (the others are the signed download's file and range,
        // and the email-link pages' HTML).
        map(map(doc.get("components")).get("responses")).forEach((name, response) -> {
            if (!name.startsWith("File") && !name.equals("Page")) {
                assertThat(map(map(response).get("content"))).as(name).containsOnlyKeys("application/problem+json");
            }
        });
    }

    @Test
    void everyReferenceResolves() {
        List<String> refs = new ArrayList<>();
        collectRefs(doc, refs);
        assertThat(refs).isNotEmpty();
        for (String ref : refs) {
            assertThat(ref).startsWith("#/");
            Object node = doc;
            for (String part : ref.substring(2).split("/")) {
                node = node instanceof Map<?, ?> m ? m.get(part) : null;
            }
            assertThat(node).as(ref).isNotNull();
        }
    }

    private static void collectRefs(Object node, List<String> out) {
        if (node instanceof Map<?, ?> m) {
            m.forEach((k, v) -> {
                if ("$ref".equals(k)) {
                    out.add((String) v);
                } else {
                    collectRefs(v, out);
                }
            });
        } else if (node instanceof List<?> l) {
            l.forEach(v -> collectRefs(v, out));
        }
    }
}
