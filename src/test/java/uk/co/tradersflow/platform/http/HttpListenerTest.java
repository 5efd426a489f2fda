package uk.co.tradersflow.platform.http;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;
import uk.co.tradersflow.support.LogCapture;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/**
 * The HTTPS router as a whole, walked route by route: HEAD wherever GET, 405 with Allow for a
 * known path's other methods, the request log's route names, and no CORS without origins.
 */
class HttpListenerTest {
    /** Headers that differ between any two requests, or that HEAD may leave out (RFC 9110 §9.3.2). */
    private static final Set<String> PER_REQUEST =
            Set.of("x-request-id", "content-length", "ratelimit-remaining", "ratelimit-reset");

    static final String OWNER = "owner-" + UUID.randomUUID() + "@tradersflow.test";
    static TestServer server;
    static TestUser user;
    /** Under /admin a signed-in non-owner is refused before any 404 or 405, so the walk asks as an owner there. */
    static TestUser owner;

    static RouteTable routes;

    @RegisterExtension
    static final ServerExtension lifecycle = ServerExtension.with(Map.of("TF_OWNER_EMAILS", OWNER))
            .then(s -> {
                server = s;
                user = new TestUsers(server).create();
                owner = new TestUsers(server).create(OWNER, true);
                // The same router every HTTPS verticle builds, from the running server's own modules.
                Router router =
                        ApiRouter.create(server.vertx, server.main.api(), server.main.routeModules(), List.of());
                routes = RouteTable.of(router.getRoutes());
            });

    /** A template's path with each parameter filled by a fresh UUID: a real route, a row nobody has. */
    private static String pathOf(String template) {
        return template.replaceAll("\\{[^}]+}", UUID.randomUUID().toString());
    }

    private static Map<String, String> comparable(MultiMap headers) {
        Map<String, String> out = new TreeMap<>();
        headers.names().stream()
                .filter(n -> !PER_REQUEST.contains(n.toLowerCase()))
                .forEach(n -> out.put(n.toLowerCase(), String.join(",", headers.getAll(n))));
        return out;
    }

    @Test
    void theWalkCoversTheApiAndWritesEveryTemplateInTheContractsSyntax() {
        List<String> templates =
                routes.entries().stream().map(RouteTable.Entry::template).toList();
        assertThat(templates)
                .contains(
                        "/health/live",
                        "/api/v1/customers",
                        "/api/v1/customers/{id}",
                        "/api/v1/invoices/{id}/send",
                        "/api/v1/me",
                        "/webhooks/stripe")
                .hasSizeGreaterThan(25);
        assertThat(templates).noneMatch(t -> t.contains(":"));
    }

    @Test
    void everyGetRouteAnswersHeadWithTheSameStatusAndHeadersAndNoBody() {
        List<String> walked = new ArrayList<>();
        for (RouteTable.Entry entry : routes.entries()) {
            if (!entry.methods().contains(HttpMethod.GET)) {
                continue;
            }
            assertThat(entry.methods()).as(entry.template()).contains(HttpMethod.HEAD);
            String path = pathOf(entry.template());
            HttpResponse<Buffer> get = server.send(HttpMethod.GET, path, user.token());
            HttpResponse<Buffer> head = server.send(HttpMethod.HEAD, path, user.token());
            assertThat(head.statusCode())
                    .as("HEAD %s", entry.template())
                    .isEqualTo(get.statusCode())
                    .isNotEqualTo(405);
            assertThat(comparable(head.headers()))
                    .as("HEAD %s", entry.template())
                    .isEqualTo(comparable(get.headers()));
            assertThat(head.body() == null ? 0 : head.body().length())
                    .as("HEAD %s has no body", entry.template())
                    .isZero();
            walked.add(entry.template());
        }
        assertThat(walked)
                .contains(
                        "/api/v1/customers",
                        "/api/v1/customers/{id}",
                        "/health/ready",
                        "/metrics",
                        "/.well-known/security.txt",
                        "/files/{account}/{document}");
        // HEAD of a list the user has: 200, as GET.
        assertThat(server.send(HttpMethod.HEAD, "/api/v1/customers", user.token())
                        .statusCode())
                .isEqualTo(200);
    }

    @Test
    void theProbesOnThePlainPortAnswerHeadToo() {
        HttpResponse<Buffer> head = TestServer.await(
                server.plainClient.request(HttpMethod.HEAD, "/health/live").send());
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.getHeader("Location")).isNull();
    }

    @Test
    void aKnownPathWithAMethodNoneOfItsRoutesTakeAnswers405WithAllow() {
        List<String> walked = new ArrayList<>();
        for (RouteTable.Entry entry : routes.entries()) {
            String path = pathOf(entry.template());
            Set<HttpMethod> allowed = routes.allowed(path);
            HttpMethod wrong =
                    List.of(HttpMethod.PUT, HttpMethod.PATCH, HttpMethod.DELETE, HttpMethod.POST, HttpMethod.GET)
                            .stream()
                            .filter(m -> !allowed.contains(m))
                            .findFirst()
                            .orElseThrow();
            String token = path.startsWith("/admin") ? owner.token() : user.token();
            HttpResponse<Buffer> r = server.send(wrong, path, token);
            assertThat(r.statusCode()).as("%s %s", wrong, entry.template()).isEqualTo(405);
            assertThat(r.getHeader("Allow"))
                    .as("%s %s", wrong, entry.template())
                    .isEqualTo(RouteTable.allowHeader(allowed));
            assertThat(r.getHeader("Content-Type")).isEqualTo(ProblemResponder.CONTENT_TYPE);
            assertThat(r.bodyAsJsonObject().getString("code")).isEqualTo("method_not_allowed");
            walked.add(entry.template());
        }
        assertThat(walked).hasSize(routes.entries().size());

        HttpResponse<Buffer> put = server.send(HttpMethod.PUT, "/api/v1/customers/" + UUID.randomUUID(), user.token());
        assertThat(put.getHeader("Allow")).isEqualTo("GET, HEAD, PATCH, DELETE");
        HttpResponse<Buffer> headOfPost = TestServer.await(
                server.request(HttpMethod.HEAD, "/api/v1/auth/login").send());
        assertThat(headOfPost.statusCode()).isEqualTo(405);
        assertThat(headOfPost.getHeader("Allow")).isEqualTo("POST");
        assertThat(server.send(HttpMethod.PUT, "/api/v1/nothing-here", user.token())
                        .statusCode())
                .isEqualTo(404);
    }

    @Test
    void theRequestLogNamesRoutesByTemplateInOneSyntaxAndUnknownPathsAsUnmatched() throws Exception {
        ch.qos.logback.classic.Logger requestLog =
                (ch.qos.logback.classic.Logger) LoggerFactory.getLogger("tradersflow.request");
        Level before = requestLog.getLevel();
        requestLog.setLevel(Level.INFO);
        String id = UUID.randomUUID().toString();
        String probe = "probe-" + UUID.randomUUID();
        try (LogCapture logs = new LogCapture()) {
            // Ended by the route's handler, by the problem responder after a handler failed, by 405, by 404.
            server.send(HttpMethod.GET, "/api/v1/customers/" + id, user.token());
            server.send(HttpMethod.POST, "/api/v1/invoices/" + id + "/send", user.token());
            server.send(HttpMethod.PUT, "/api/v1/jobs/" + id, user.token());
            TestServer.await(server.request(HttpMethod.GET, "/wp-admin/" + probe + "/" + id)
                    .send());
            TestServer.await(server.request(HttpMethod.GET, "/health/live").send());
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (!logs.text().contains("route=/health/live") && System.nanoTime() < deadline) {
                Thread.sleep(20); // the line is written as the response ends, which may be after the client has it
            }
            String text = logs.text();
            assertThat(text)
                    .contains("method=GET route=/api/v1/customers/{id} status=404")
                    .contains("method=POST route=/api/v1/invoices/{id}/send ")
                    .contains("method=PUT route=/api/v1/jobs/{id} status=405")
                    .contains("method=GET route=unmatched status=404")
                    .contains("method=GET route=/health/live status=200");
            assertThat(text)
                    .doesNotContain(id)
                    .doesNotContain(probe)
                    .doesNotContain("/:id")
                    .doesNotContain("wp-admin");
        } finally {
            requestLog.setLevel(before);
        }
    }

    @Test
    void withNoOriginsConfiguredThereAreNoCorsHeaders() {
        HttpResponse<Buffer> preflight = TestServer.await(server.request(HttpMethod.OPTIONS, "/api/v1/customers")
                .putHeader("Origin", "https://app.example.com")
                .putHeader("Access-Control-Request-Method", "GET")
                .send());
        assertThat(preflight.statusCode()).isEqualTo(405);
        assertThat(preflight.headers().names()).noneMatch(n -> n.toLowerCase().startsWith("access-control-"));
        HttpResponse<Buffer> get = TestServer.await(server.request(HttpMethod.GET, "/api/v1/customers", user.token())
                .putHeader("Origin", "https://app.example.com")
                .send());
        assertThat(get.statusCode()).isEqualTo(200);
        assertThat(get.headers().names()).noneMatch(n -> n.toLowerCase().startsWith("access-control-"));
    }

    @Test
    void byDefaultTheListenersBindEveryInterface() {
        // All of 127/8 is loopback on Linux; a listener bound to 127.0.0.1 alone would refuse 127.0.0.2.
        WebClient other = WebClient.create(
                server.vertx,
                new WebClientOptions()
                        .setDefaultHost("127.0.0.2")
                        .setDefaultPort(server.config.http().httpPort()));
        try {
            assertThat(TestServer.await(other.get("/health/live").send()).statusCode())
                    .isEqualTo(200);
        } finally {
            other.close();
        }
    }
}
