package uk.co.tradersflow.docs;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import uk.co.tradersflow.platform.http.Api;
import uk.co.tradersflow.platform.http.RouteModule;

/**
 * The API document at {@code /openapi.yaml} and a readable reference at {@code /docs}: Swagger
 * UI from its webjar, served from this origin. The page's script is a file of ours
 * ({@code /docs/init.js}), so the page's CSP allows scripts and styles from {@code 'self'} only,
 * never inline. Files are read from the class path once, on a worker, and kept.
 */
public final class ApiDocsRoutes implements RouteModule {
    /** The API's CSP, opened only as far as Swagger UI needs: its own files, data: images, calls to this API. */
    static final String DOCS_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

    private static final String WEBJAR = "META-INF/resources/webjars/swagger-ui/5.35.0/";
    private static final String JS = "text/javascript; charset=utf-8";

    private record File(String resource, String contentType) {}

    /** Only these: the webjar's other files (its demo page and initializer point at the Petstore). */
    private static final Map<String, File> ASSETS = Map.of(
            "init.js", new File("docs/init.js", JS),
            "swagger-ui-bundle.js", new File(WEBJAR + "swagger-ui-bundle.js", JS),
            "swagger-ui.css", new File(WEBJAR + "swagger-ui.css", "text/css; charset=utf-8"),
            "favicon-32x32.png", new File(WEBJAR + "favicon-32x32.png", "image/png"),
            "favicon-16x16.png", new File(WEBJAR + "favicon-16x16.png", "image/png"));

    private static final File DOCUMENT = new File("openapi.yaml", "application/yaml; charset=utf-8");
    private static final File PAGE = new File("docs/index.html", "text/html; charset=utf-8");

    private final Vertx vertx;
    private final Map<String, Future<Buffer>> files = new ConcurrentHashMap<>();

    public ApiDocsRoutes(Vertx vertx) {
        this.vertx = vertx;
    }

    @Override
    public void mount(Router router, Api api) {
        router.get("/openapi.yaml").handler(ctx -> serve(ctx, DOCUMENT, false));
        router.get("/docs").handler(ctx -> serve(ctx, PAGE, true));
        router.get("/docs/:asset").handler(ctx -> {
            File asset = ASSETS.get(ctx.pathParam("asset"));
            if (asset == null) {
                ctx.fail(404);
                return;
            }
            serve(ctx, asset, true);
        });
    }

    private void serve(RoutingContext ctx, File file, boolean page) {
        read(file.resource()).onComplete(ar -> {
            if (ar.failed()) {
                ctx.fail(ar.cause());
                return;
            }
            if (page) {
                ctx.response().putHeader("Content-Security-Policy", DOCS_CSP);
            }
            ctx.response()
                    .putHeader("Content-Type", file.contentType())
                    .putHeader("Cache-Control", "public, max-age=300")
                    .end(ar.result());
        });
    }

    private Future<Buffer> read(String resource) {
        Future<Buffer> cached = files.computeIfAbsent(
                resource,
                r -> vertx.executeBlocking(
                        () -> {
                            try (InputStream in =
                                    ApiDocsRoutes.class.getClassLoader().getResourceAsStream(r)) {
                                if (in == null) {
                                    throw new IOException("missing from the class path: " + r);
                                }
                                return Buffer.buffer(in.readAllBytes());
                            }
                        },
                        false));
        // A failed read is not kept: the next request tries again.
        cached.onFailure(e -> files.remove(resource, cached));
        return cached;
    }
}
