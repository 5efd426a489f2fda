package uk.co.tradersflow.platform.http;

import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Route;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The router's path templates and the methods each answers, read from the mounted routes once.
 * It names a request's route in the request log in one syntax, the contract's {@code {id}}
 * (Vert.x writes {@code :id}), whichever handler ends the request; and it says which methods a
 * known path allows, for a 405's {@code Allow}.
 */
public final class RouteTable {
    /** Allow lists methods in this order, the usual reading order, whatever the mount order was. */
    private static final List<HttpMethod> ORDER = List.of(
            HttpMethod.GET,
            HttpMethod.HEAD,
            HttpMethod.POST,
            HttpMethod.PUT,
            HttpMethod.PATCH,
            HttpMethod.DELETE,
            HttpMethod.OPTIONS);

    /** One path template: as the log and the contract write it, and the methods routed to it. */
    public record Entry(String template, Pattern pattern, Set<HttpMethod> methods) {}

    private final List<Entry> entries;
    /** Vert.x path → template, for the common case: the request ended on the route it matched. */
    private final Map<String, String> templates;

    private RouteTable(List<Entry> entries, Map<String, String> templates) {
        this.entries = entries;
        this.templates = templates;
    }

    /** Routes without a path (the shared front handlers, the catch-all; a regex route has none either) or without methods are not templates. */
    public static RouteTable of(List<Route> routes) {
        // Keyed by the declared path, a prefix route ("/docs/*", stored by Vert.x as "/docs/" and not
        // exact) with its star back on.
        Map<String, Set<HttpMethod>> byPath = new LinkedHashMap<>();
        for (Route route : routes) {
            if (route.getPath() != null
                    && route.methods() != null
                    && !route.methods().isEmpty()) {
                String declared = route.isExactPath() ? route.getPath() : route.getPath() + "*";
                byPath.computeIfAbsent(declared, p -> new LinkedHashSet<>()).addAll(route.methods());
            }
        }
        List<Entry> entries = new ArrayList<>();
        byPath.forEach((path, methods) ->
                entries.add(new Entry(template(path), pattern(path), Collections.unmodifiableSet(ordered(methods)))));
        Map<String, String> templates = new java.util.HashMap<>();
        byPath.keySet()
                .forEach(path -> templates.put(
                        path.endsWith("*") ? path.substring(0, path.length() - 1) : path, template(path)));
        return new RouteTable(List.copyOf(entries), Map.copyOf(templates));
    }

    public List<Entry> entries() {
        return entries;
    }

    /**
     * The template a request's path and method were routed to: of the templates matching the
     * path, the first that answers the method, else the first (a 405); {@code unmatched} when no
     * template matches, so a raw path (ids, typos, probes) never reaches the log.
     */
    public String name(HttpMethod method, String path) {
        return name(null, method, path);
    }

    /**
     * {@link #name(HttpMethod, String)}, looked up without matching when the request ended on a
     * route with a path (a handler answered), which is most requests: the log line costs a map
     * lookup, not a walk over every template.
     */
    public String name(Route current, HttpMethod method, String path) {
        if (current != null && current.getPath() != null) {
            String template = templates.get(current.getPath());
            if (template != null) {
                return template;
            }
        }
        String firstMatch = null;
        for (Entry entry : entries) {
            if (path != null && entry.pattern().matcher(path).matches()) {
                if (entry.methods().contains(method)) {
                    return entry.template();
                }
                if (firstMatch == null) {
                    firstMatch = entry.template();
                }
            }
        }
        return firstMatch != null ? firstMatch : "unmatched";
    }

    /** The methods some route answers on this path; empty for a path no route knows. */
    public Set<HttpMethod> allowed(String path) {
        Set<HttpMethod> methods = new LinkedHashSet<>();
        for (Entry entry : entries) {
            if (path != null && entry.pattern().matcher(path).matches()) {
                methods.addAll(entry.methods());
            }
        }
        return ordered(methods);
    }

    /** The {@code Allow} header's value for a set of methods. */
    public static String allowHeader(Set<HttpMethod> methods) {
        return ordered(methods).stream().map(HttpMethod::name).collect(Collectors.joining(", "));
    }

    private static Set<HttpMethod> ordered(Set<HttpMethod> methods) {
        Set<HttpMethod> out = new LinkedHashSet<>();
        ORDER.stream().filter(methods::contains).forEach(out::add);
        methods.stream().filter(m -> !ORDER.contains(m)).forEach(out::add);
        return out;
    }

    /** {@code /api/v1/invoices/:id/send} → {@code /api/v1/invoices/{id}/send}. */
    static String template(String vertxPath) {
        return vertxPath.replaceAll(":([A-Za-z0-9_]+)", "{$1}");
    }

    /**
     * As Vert.x matches a path: a parameter is one non-empty segment, a trailing slash is allowed,
     * and a declared trailing {@code *} takes anything below.
     */
    private static Pattern pattern(String declared) {
        if (declared.endsWith("*")) {
            return Pattern.compile(Pattern.quote(declared.substring(0, declared.length() - 1)) + ".*");
        }
        String vertxPath = declared;
        StringBuilder regex = new StringBuilder();
        for (String segment : vertxPath.split("/", -1)) {
            if (regex.length() > 0 || !segment.isEmpty()) {
                regex.append('/');
            }
            if (segment.startsWith(":")) {
                regex.append("[^/]+");
            } else if (!segment.isEmpty()) {
                regex.append(Pattern.quote(segment));
            }
        }
        return Pattern.compile((regex.length() == 0 ? "/" : regex.toString()) + "/?");
    }
}
