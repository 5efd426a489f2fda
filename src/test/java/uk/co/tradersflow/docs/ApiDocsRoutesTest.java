package uk.co.tradersflow.docs;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.client.HttpResponse;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.TestServer;

/** The API document and its readable reference, served by the server, and the routes it mounts all in it. */
class ApiDocsRoutesTest {
    static TestServer server;
    static byte[] document;

    @RegisterExtension
    static final ServerExtension lifecycle = ServerExtension.withDefaults().then(s -> {
        server = s;
        try (InputStream in = ApiDocsRoutesTest.class.getResourceAsStream("/openapi.yaml")) {
            document = in.readAllBytes();
        }
    });

    static HttpResponse<Buffer> get(String path) {
        return TestServer.await(server.request(HttpMethod.GET, path).send());
    }

    @Test
    void theDocumentIsServedAsYamlToAnyone() {
        HttpResponse<Buffer> r = get("/openapi.yaml");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.getHeader("Content-Type")).isEqualTo("application/yaml; charset=utf-8");
        assertThat(r.body().getBytes()).isEqualTo(document);
        Map<?, ?> parsed = new Yaml(new SafeConstructor(new LoaderOptions())).load(r.bodyAsString());
        assertThat(String.valueOf(parsed.get("openapi"))).startsWith("3.1");
    }

    @Test
    void theReferencePageLoadsSwaggerUiFromThisOriginWithoutInlineScript() {
        HttpResponse<Buffer> page = get("/docs");
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.getHeader("Content-Type")).startsWith("text/html");
        String csp = page.getHeader("Content-Security-Policy");
        assertThat(csp)
                .contains(
                        "default-src 'none'",
                        "script-src 'self'",
                        "style-src 'self'",
                        "connect-src 'self'",
                        "frame-ancestors 'none'")
                .doesNotContain("unsafe-inline", "unsafe-eval", "http:", "https:");
        String html = page.bodyAsString();
        // Every script has a src, no handler attributes, no inline styles: the CSP needs nothing more.
        assertThat(Pattern.compile("<script(?![^>]*\\ssrc=)[^>]*>")
                        .matcher(html)
                        .find())
                .as("inline script")
                .isFalse();
        assertThat(html)
                .doesNotContainPattern("\\son[a-z]+=")
                .doesNotContain("style=", "<style", "//cdn", "http://", "https://");

        List<String> assets = new ArrayList<>();
        Matcher m = Pattern.compile("(?:src|href)=\"(/[^\"]+)\"").matcher(html);
        while (m.find()) {
            assets.add(m.group(1));
        }
        assertThat(assets)
                .contains("/docs/swagger-ui-bundle.js", "/docs/init.js", "/docs/swagger-ui.css", "/openapi.yaml");
        for (String asset : assets) {
            HttpResponse<Buffer> r = get(asset);
            assertThat(r.statusCode()).as(asset).isEqualTo(200);
            assertThat(r.body().length()).as(asset).isPositive();
        }
        assertThat(get("/docs/swagger-ui-bundle.js").getHeader("Content-Type"))
                .isEqualTo("text/javascript; charset=utf-8");
        assertThat(get("/docs/swagger-ui.css").getHeader("Content-Type")).isEqualTo("text/css; charset=utf-8");
        assertThat(get("/docs/swagger-ui-bundle.js").bodyAsString()).contains("SwaggerUIBundle");
        assertThat(get("/docs/init.js").bodyAsString()).contains("SwaggerUIBundle(", "url: '/openapi.yaml'");
    }

    @Test
    void onlyTheReferencesOwnFilesAreServedNotTheWebjarsDemo() {
        for (String path : List.of(
                "/docs/swagger-initializer.js",
                "/docs/index.html",
                "/docs/oauth2-redirect.html",
                "/docs/..%2Fopenapi.yaml")) {
            HttpResponse<Buffer> r = get(path);
            assertThat(r.statusCode()).as(path).isEqualTo(404);
            assertThat(r.getHeader("Content-Type")).as(path).isEqualTo("application/problem+json");
        }
    }

    @Test
    void everyRouteTheServerMountsIsInTheDocument() {
        Map<String, Map<String, Object>> paths = new Yaml(new SafeConstructor(new LoaderOptions()))
                        .<Map<String, Object>>load(new String(document, java.nio.charset.StandardCharsets.UTF_8))
                        .entrySet()
                        .stream()
                        .filter(e -> e.getKey().equals("paths"))
                        .findFirst()
                        .map(e -> castPaths(e.getValue()))
                        .orElseThrow();
        Set<String> documented = new TreeSet<>();
        paths.forEach((path, item) ->
                item.keySet().forEach(method -> documented.add(method.toUpperCase() + " " + shape(path))));

        Set<String> mounted = new TreeSet<>();
        for (Route route : server.main.routes().getRoutes()) {
            if (route.getPath() == null
                    || route.methods() == null
                    || route.methods().isEmpty()) {
                continue; // handlers on every request (request ids, headers, the 404), not operations
            }
            // HEAD is GET without the body, OPTIONS a CORS preflight: the document lists neither on its own.
            route.methods().stream()
                    .filter(m -> !m.name().equals("OPTIONS"))
                    .forEach(method -> mounted.add(
                            (method.name().equals("HEAD") ? "GET" : method.name()) + " " + shape(route.getPath())));
        }
        assertThat(mounted).hasSizeGreaterThan(40);
        assertThat(mounted).as("mounted routes missing from openapi.yaml").isSubsetOf(documented);
    }

    /** A path template with its variables unnamed: {@code /a/:id} and {@code /a/{id}} are one shape. */
    static String shape(String template) {
        return template.replaceAll("\\{[^}/]+}", "{}").replaceAll(":[A-Za-z0-9_]+", "{}");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Map<String, Object>> castPaths(Object paths) {
        Map<String, Map<String, Object>> out = new java.util.TreeMap<>();
        ((Map<String, Object>) paths).forEach((k, v) -> {
            Map<String, Object> ops = new java.util.TreeMap<>((Map<String, Object>) v);
            ops.keySet().retainAll(Set.of("get", "put", "post", "patch", "delete", "head", "options"));
            out.put(k, ops);
        });
        return out;
    }
}
