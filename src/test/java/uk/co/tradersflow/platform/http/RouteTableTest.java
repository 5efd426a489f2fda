package uk.co.tradersflow.platform.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import uk.co.tradersflow.support.TestServer;

/** Path templates matched as Vert.x matches them, named in the contract's syntax. */
class RouteTableTest {
    private final Vertx vertx = Vertx.vertx();

    @AfterEach
    void close() {
        TestServer.await(vertx.close());
    }

    private RouteTable table() {
        Router router = Router.router(vertx);
        router.get("/api/v1/invoices").handler(ctx -> {});
        router.post("/api/v1/invoices").handler(ctx -> {});
        router.get("/api/v1/invoices/:id").handler(ctx -> {});
        router.post("/api/v1/invoices/:id/send").handler(ctx -> {});
        router.get("/files/:account/:document").handler(ctx -> {});
        router.route().handler(ctx -> {}); // no path: not a template
        return RouteTable.of(router.getRoutes());
    }

    @Test
    void aPathIsNamedByItsTemplateAndAnUnknownOneIsUnmatched() {
        RouteTable table = table();
        assertThat(table.name(HttpMethod.POST, "/api/v1/invoices/7f0c/send")).isEqualTo("/api/v1/invoices/{id}/send");
        assertThat(table.name(HttpMethod.GET, "/api/v1/invoices/7f0c/")).isEqualTo("/api/v1/invoices/{id}");
        assertThat(table.name(HttpMethod.GET, "/files/a/b")).isEqualTo("/files/{account}/{document}");
        assertThat(table.name(HttpMethod.DELETE, "/api/v1/invoices"))
                .as("known path, wrong method")
                .isEqualTo("/api/v1/invoices");
        assertThat(table.name(HttpMethod.GET, "/files/a/b/c"))
                .as("a parameter is one segment")
                .isEqualTo("unmatched");
        assertThat(table.name(HttpMethod.GET, "/api/v1/invoices/")).isEqualTo("/api/v1/invoices");
        assertThat(table.name(HttpMethod.GET, "/api/v1/invoicesX")).isEqualTo("unmatched");
        assertThat(table.name(HttpMethod.GET, "/")).isEqualTo("unmatched");
        assertThat(table.entries()).hasSize(4);
    }

    @Test
    void allowListsEveryMethodOfAPathInOneOrder() {
        RouteTable table = table();
        assertThat(RouteTable.allowHeader(table.allowed("/api/v1/invoices"))).isEqualTo("GET, POST");
        assertThat(RouteTable.allowHeader(table.allowed("/api/v1/invoices/1/send")))
                .isEqualTo("POST");
        assertThat(table.allowed("/nowhere")).isEmpty();
    }

    @Test
    void aPrefixRouteNamesEverythingBelowItAndProbesStayUnmatched() {
        Router router = Router.router(vertx);
        router.get("/docs/*").handler(ctx -> {});
        router.get("/health/ready").handler(ctx -> {});
        RouteTable table = RouteTable.of(router.getRoutes());
        assertThat(table.name(HttpMethod.GET, "/docs/swagger-ui.css")).isEqualTo("/docs/*");
        assertThat(table.name(HttpMethod.GET, "/docs/a/b/c.js")).isEqualTo("/docs/*");
        assertThat(table.name(HttpMethod.GET, "/wp-login.php")).isEqualTo("unmatched");
        assertThat(table.name(HttpMethod.GET, "/health/ready/../../etc")).isEqualTo("unmatched");
        assertThat(table.name(HttpMethod.GET, null)).isEqualTo("unmatched");
        assertThat(RouteTable.allowHeader(table.allowed("/docs/index.html"))).isEqualTo("GET");
    }
}
