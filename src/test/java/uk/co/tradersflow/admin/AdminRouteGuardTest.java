package uk.co.tradersflow.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.platform.http.RouteTable;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.Sql;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/**
 * Every {@code /admin} route, as the running server's own router lists them (every module's,
 * so a route added later is walked too), refuses anonymous callers (401), plain users (403
 * {@code not_owner}) and, where it acts, support staff (403 {@code insufficient_role}); each
 * refusal of a signed-in user is an {@code admin.denied} audit entry. Paths under {@code /admin}
 * that no route answers are refused the same way before any 404, so an outsider learns nothing
 * about which exist.
 */
class AdminRouteGuardTest {
    static final String OWNER = "owner-" + UUID.randomUUID() + "@tradersflow.test";
    static final String SUPPORT = "support-" + UUID.randomUUID() + "@tradersflow.test";
    /**
     * Support may propose (and so confirm) the {@code signin_link} action (the contract's roles):
     * the gate lets them reach the actions service, which refuses every other action. Here such a
     * route only has to perform nothing for support.
     */
    static final Set<String> SUPPORT_MAY_REACH_THE_SERVICE =
            Set.of("POST /admin/api/actions", "POST /admin/api/actions/{id}/confirm");

    static TestServer server;
    static TestUser plain;
    static TestUser support;
    static TestUser owner;
    /** For paths and methods the API document cannot list (unknown ones): no response check on it. */
    static WebClient unchecked;

    @RegisterExtension
    static final ServerExtension lifecycle = ServerExtension.with(
                    Map.of("TF_OWNER_EMAILS", OWNER, "TF_SUPPORT_EMAILS", SUPPORT, "TF_API_BURST", "1000"))
            .then(s -> server = s);

    @BeforeAll
    static void users() {
        TestUsers users = new TestUsers(server);
        plain = users.create();
        support = users.create(SUPPORT, true);
        owner = users.create(OWNER, true);
        unchecked = WebClient.create(
                server.vertx,
                uk.co.tradersflow.support.TrustAllTls.webClient(
                        server.config.http().httpsPort()));
    }

    @AfterAll
    static void closeClient() {
        unchecked.close();
    }

    /** One admin route: a method and a path template, as the router holds them. */
    record AdminRoute(HttpMethod method, String template) {
        String name() {
            return method.name() + " " + template;
        }

        /** A concrete path: each parameter a fresh UUID (the refusals come before any lookup). */
        String path() {
            return template.replaceAll("\\{[^}]+}", UUID.randomUUID().toString());
        }
    }

    /**
     * Every route of the server's router whose path is under /admin/api, each method separately.
     * The console's pages (/admin and below, outside /admin/api) answer to its cookie, never to a
     * bearer token: {@link #consolePagesAnswerNoBearerTokenAndAskAnonymousCallersToSignIn}.
     */
    static List<AdminRoute> adminRoutes() {
        return routesUnder().stream().filter(r -> isApi(r.template())).toList();
    }

    private static boolean isApi(String template) {
        return template.equals("/admin/api") || template.startsWith("/admin/api/");
    }

    /** Every route of the server's router whose path is /admin or under it, each method separately. */
    static List<AdminRoute> routesUnder() {
        List<Route> routes = server.main.routes().getRoutes();
        assertThat(routes.stream()
                        .filter(r -> r.getPath() == null && r.isRegexPath())
                        .map(Route::toString))
                .as("a route declared by a regular expression could escape this walk: give it a path")
                .isEmpty();
        List<AdminRoute> admin = new ArrayList<>();
        for (RouteTable.Entry e : RouteTable.of(routes).entries()) {
            if (e.template().equals("/admin") || e.template().startsWith("/admin/")) {
                e.methods().stream()
                        .filter(m -> !m.equals(HttpMethod.HEAD) && !m.equals(HttpMethod.OPTIONS))
                        .forEach(m -> admin.add(new AdminRoute(m, e.template())));
            }
        }
        return admin;
    }

    private static HttpResponse<Buffer> call(HttpMethod method, String path, TestUser who) {
        var req = server.request(method, path);
        if (who != null) {
            req.bearerTokenAuthentication(who.token());
        }
        return TestServer.await(method.equals(HttpMethod.GET) ? req.send() : req.sendJsonObject(new JsonObject()));
    }

    private static HttpResponse<Buffer> callUnchecked(HttpMethod method, String path, TestUser who) {
        var req = unchecked.request(method, path);
        if (who != null) {
            req.bearerTokenAuthentication(who.token());
        }
        return TestServer.await(method.equals(HttpMethod.GET) ? req.send() : req.sendJsonObject(new JsonObject()));
    }

    private static long denied(TestUser who, HttpMethod method, String path, String code) {
        return Sql.admin()
                .count(
                        "SELECT count(*) FROM audit_log WHERE account_id = ? AND actor_id = ? AND action = 'admin.denied' "
                                + "AND details->>'method' = ? AND details->>'path' = ? AND details->>'code' = ?",
                        who.accountId(),
                        who.userId(),
                        method.name(),
                        path,
                        code);
    }

    private static void assertRefused(HttpResponse<Buffer> r, int status, String code, String what) {
        assertThat(r.statusCode()).as(what + ": " + r.bodyAsString()).isEqualTo(status);
        assertThat(r.getHeader("Content-Type")).as(what).startsWith("application/problem+json");
        assertThat(r.bodyAsJsonObject().getString("code")).as(what).isEqualTo(code);
    }

    @Test
    void theWalkSeesEveryModulesAdminRoutes() {
        assertThat(adminRoutes().stream().map(AdminRoute::name))
                .contains(
                        "GET /admin/api/accounts",
                        "GET /admin/api/accounts/{id}",
                        "GET /admin/api/audit",
                        "GET /admin/api/analytics",
                        "GET /admin/api/emails",
                        "POST /admin/api/emails/{id}/requeue",
                        "GET /admin/api/webhooks",
                        "POST /admin/api/webhooks/{eventId}/replay");
    }

    @Test
    void everyAdminRouteRefusesAnonymousCallersPlainUsersAndSupportWhereItActs() {
        List<AdminRoute> routes = adminRoutes();
        assertThat(routes).isNotEmpty();
        for (AdminRoute route : routes) {
            String path = route.path();
            String what = route.name() + " as " + path;

            assertRefused(call(route.method(), path, null), 401, "unauthorized", what + " anonymous");

            assertRefused(call(route.method(), path, plain), 403, "not_owner", what + " plain user");
            assertThat(denied(plain, route.method(), path, "not_owner"))
                    .as(what + ": the plain user's refusal is audited")
                    .isEqualTo(1);

            if (route.method().equals(HttpMethod.GET)) {
                continue; // support staff may read; each read route's own tests say what they see
            }
            HttpResponse<Buffer> bySupport = call(route.method(), path, support);
            if (SUPPORT_MAY_REACH_THE_SERVICE.contains(route.name())) {
                assertThat(bySupport.statusCode() / 100)
                        .as(what + " support performs nothing: " + bySupport.bodyAsString())
                        .isNotEqualTo(2);
            } else {
                assertRefused(bySupport, 403, "insufficient_role", what + " support");
                assertThat(denied(support, route.method(), path, "insufficient_role"))
                        .as(what + ": support's refusal is audited")
                        .isEqualTo(1);
            }
        }
    }

    /**
     * The console's own routes (everything under /admin outside /admin/api) open only with its
     * cookie: an owner's bearer token alone is a signed-out visitor there, shown the sign-in page
     * (401) with no data; posted forms without this origin are refused first (403).
     */
    @Test
    void consolePagesAnswerNoBearerTokenAndAskAnonymousCallersToSignIn() {
        List<AdminRoute> console =
                routesUnder().stream().filter(r -> !isApi(r.template())).toList();
        assertThat(console.stream().map(AdminRoute::name))
                .contains("GET /admin", "GET /admin/accounts", "GET /admin/accounts/{id}", "POST /admin/sign-in");
        for (AdminRoute route : console) {
            String what = route.name();
            if (route.name().equals("GET /admin") || route.name().equals("GET /admin/assets/{file}")) {
                continue; // the sign-in page and its two files are for everyone
            }
            HttpResponse<Buffer> r = call(route.method(), route.path(), owner);
            if (route.method().equals(HttpMethod.GET)) {
                assertThat(r.statusCode()).as(what).isEqualTo(401);
                assertThat(r.bodyAsString()).as(what).contains("<h1>Sign in</h1>");
            } else {
                assertThat(r.statusCode()).as(what + " (no Origin)").isEqualTo(403);
            }
            assertThat(r.getHeader("Content-Type")).as(what).startsWith("text/html");
        }
    }

    @Test
    void unknownPathsUnderAdminAreRefusedBeforeAny404AndOwnersGet404() {
        // "/admin" itself and "/admin/assets/…" are the console's (its sign-in page and files).
        List<String> unknown = List.of(
                "/admin/secret",
                "/admin/api",
                "/admin/api/nope",
                "/admin/api/accounts/" + UUID.randomUUID() + "/users");
        for (String path : unknown) {
            for (HttpMethod method : List.of(HttpMethod.GET, HttpMethod.POST, HttpMethod.DELETE)) {
                String what = method + " " + path;
                assertRefused(callUnchecked(method, path, null), 401, "unauthorized", what + " anonymous");
                assertRefused(callUnchecked(method, path, plain), 403, "not_owner", what + " plain user");
                assertThat(denied(plain, method, path, "not_owner"))
                        .as(what + ": audited")
                        .isEqualTo(1);
                HttpResponse<Buffer> bySupport = callUnchecked(method, path, support);
                if (method.equals(HttpMethod.GET)) {
                    assertRefused(bySupport, 404, "not_found", what + " support");
                } else {
                    assertRefused(bySupport, 403, "insufficient_role", what + " support");
                }
                assertRefused(callUnchecked(method, path, owner), 404, "not_found", what + " owner");
            }
        }
        assertThat(callUnchecked(HttpMethod.HEAD, "/admin/api/nope", null).statusCode())
                .isEqualTo(401);
    }

    @Test
    void aKnownAdminPathAskedWithAnotherMethodIsRefusedAndOnlyAnOwnerLearnsItIs405() {
        String path = "/admin/api/accounts";
        assertRefused(callUnchecked(HttpMethod.DELETE, path, null), 401, "unauthorized", "anonymous");
        assertRefused(callUnchecked(HttpMethod.DELETE, path, plain), 403, "not_owner", "plain user");
        HttpResponse<Buffer> byOwner = callUnchecked(HttpMethod.DELETE, path, owner);
        assertRefused(byOwner, 405, "method_not_allowed", "owner");
        assertThat(byOwner.getHeader("Allow")).isEqualTo("GET, HEAD");
    }

    @Test
    void pathsThatOnlyStartLikeAdminAreNotTheAdminArea() {
        assertRefused(callUnchecked(HttpMethod.GET, "/administrator", null), 404, "not_found", "anonymous");
        assertRefused(callUnchecked(HttpMethod.GET, "/adminx/api", null), 404, "not_found", "anonymous");
    }
}
