package uk.co.tradersflow.platform.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import uk.co.tradersflow.support.TestServer;

/** A request path maps to the template of the route that declares it, and nothing else. */
class RouteTemplatesTest {
  static Vertx vertx;
  static RouteTemplates templates;

  @BeforeAll
  static void routes() {
    vertx = Vertx.vertx();
    Router router = Router.router(vertx);
    router.route().handler(ctx -> ctx.next());
    router.route(HttpMethod.GET, "/api/v1/invoices").handler(ctx -> ctx.end());
    router.route(HttpMethod.GET, "/api/v1/invoices/:id").handler(ctx -> ctx.end());
    router.route(HttpMethod.PUT, "/api/v1/invoices/:id").handler(ctx -> ctx.end());
    router.route(HttpMethod.GET, "/api/v1/documents/:id/url").handler(ctx -> ctx.end());
    router.route(HttpMethod.GET, "/files/*").handler(ctx -> ctx.end());
    router.route(HttpMethod.GET, "/health/ready").handler(ctx -> ctx.end());
    templates = RouteTemplates.of(router);
  }

  @AfterAll
  static void close() {
    TestServer.await(vertx.close());
  }

  @Test
  void pathsMapToTheirDeclaredTemplate() {
    assertThat(templates.templateOf("/api/v1/invoices")).isEqualTo("/api/v1/invoices");
    assertThat(templates.templateOf("/api/v1/invoices/")).isEqualTo("/api/v1/invoices");
    assertThat(templates.templateOf("/api/v1/invoices/3f1c1a52-7d2e-4d7e-9a55-000000000001")).isEqualTo("/api/v1/invoices/:id");
    assertThat(templates.templateOf("/api/v1/documents/abc/url")).isEqualTo("/api/v1/documents/:id/url");
    assertThat(templates.templateOf("/files/acct/doc")).isEqualTo("/files/*");
    assertThat(templates.templateOf("/health/ready")).isEqualTo("/health/ready");
  }

  @Test
  void pathsNoRouteDeclaresAreUnmatched() {
    assertThat(templates.templateOf("/api/v1/invoices/a/b")).isEqualTo(RouteTemplates.UNMATCHED);
    assertThat(templates.templateOf("/api/v1/invoicesX")).isEqualTo(RouteTemplates.UNMATCHED);
    assertThat(templates.templateOf("/wp-login.php")).isEqualTo(RouteTemplates.UNMATCHED);
    assertThat(templates.templateOf("/health/ready/../../etc")).isEqualTo(RouteTemplates.UNMATCHED);
    assertThat(templates.templateOf(null)).isEqualTo(RouteTemplates.UNMATCHED);
  }

  @Test
  void statusIsItsClass() {
    assertThat(HttpMetrics.statusClass(200)).isEqualTo("2xx");
    assertThat(HttpMetrics.statusClass(404)).isEqualTo("4xx");
    assertThat(HttpMetrics.statusClass(503)).isEqualTo("5xx");
    assertThat(HttpMetrics.statusClass(999)).isEqualTo("other");
  }
}
