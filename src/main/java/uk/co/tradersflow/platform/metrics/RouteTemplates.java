package uk.co.tradersflow.platform.metrics;

import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The route template a request path belongs to ({@code /api/v1/invoices/:id} for
 * {@code /api/v1/invoices/3f…}), from the router's own path routes. A path no route declares is
 * {@link #UNMATCHED}: labels come only from the templates in the code, so no URL a client makes
 * up can add a series.
 */
final class RouteTemplates {
  static final String UNMATCHED = "unmatched";

  private record Template(String path, Pattern pattern) {}

  private final List<Template> templates;

  private RouteTemplates(List<Template> templates) {
    this.templates = templates;
  }

  static RouteTemplates of(Router router) {
    List<Template> templates = new ArrayList<>();
    for (Route route : router.getRoutes()) {
      // The name is the declared path, parameters included; a prefix route ("/files/*") is
      // declared without its star and is not exact. Routes without a path (the shared handlers,
      // the 404 catch-all) name nothing.
      String path = route.getName() != null ? route.getName() : route.getPath();
      if (path == null || !path.startsWith("/")) {
        continue;
      }
      String label = route.isExactPath() || path.endsWith("*") ? path : path + "*";
      if (templates.stream().noneMatch(t -> t.path().equals(label))) {
        templates.add(new Template(label, compile(label)));
      }
    }
    return new RouteTemplates(List.copyOf(templates));
  }

  String templateOf(String path) {
    if (path == null) {
      return UNMATCHED;
    }
    for (Template t : templates) {
      if (t.pattern().matcher(path).matches()) {
        return t.path();
      }
    }
    return UNMATCHED;
  }

  /** {@code :name} is one path segment; a trailing {@code *} is anything below (Vert.x's meaning of both). */
  private static Pattern compile(String template) {
    StringBuilder regex = new StringBuilder();
    boolean prefix = template.endsWith("*");
    String body = prefix ? template.substring(0, template.length() - 1) : template;
    for (String part : body.split("(?=/)")) {
      String segment = part.startsWith("/") ? part.substring(1) : part;
      if (part.startsWith("/")) {
        regex.append('/');
      }
      regex.append(segment.startsWith(":") ? "[^/]+" : Pattern.quote(segment));
    }
    if (prefix) {
      regex.append(".*");
    } else {
      regex.append("/?");
    }
    return Pattern.compile(regex.toString());
  }
}
