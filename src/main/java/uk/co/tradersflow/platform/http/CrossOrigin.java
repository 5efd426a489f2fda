package uk.co.tradersflow.platform.http;

import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.CorsHandler;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Browser access from the origins in {@code TF_CORS_ORIGINS}, by Vert.x's {@link CorsHandler}:
 * preflights answer 204 with the API's methods and request headers, actual requests get
 * {@code Access-Control-Allow-Origin}, and no credentials are allowed (the API takes bearer
 * tokens, not cookies). A request from any other origin passes on untouched, without CORS
 * headers, so the browser keeps the answer from the page; the server's own and same-origin
 * requests, and non-browser clients that send an {@code Origin}, are served as before
 * ({@code CorsHandler} alone would answer them 403).
 */
public final class CrossOrigin implements Handler<RoutingContext> {
    static final Set<HttpMethod> METHODS =
            Set.of(HttpMethod.GET, HttpMethod.HEAD, HttpMethod.POST, HttpMethod.PATCH, HttpMethod.DELETE);
    static final Set<String> REQUEST_HEADERS = Set.of("authorization", "content-type", "idempotency-key");
    /** What a page's script may read beyond the CORS-safelisted headers: ids for support, and the rate-limit answers. */
    static final Set<String> EXPOSED_HEADERS = Set.of(
            "X-Request-Id", "Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "Location");
    /** Preflight answers are cached by the browser for ten minutes. */
    static final int MAX_AGE_SECONDS = 600;

    private final Set<String> origins;
    private final CorsHandler cors;

    private CrossOrigin(List<String> origins) {
        this.origins = Set.copyOf(origins);
        this.cors = CorsHandler.create()
                .addOrigins(origins)
                .allowedMethods(METHODS)
                .allowedHeaders(REQUEST_HEADERS)
                .exposedHeaders(EXPOSED_HEADERS)
                .allowCredentials(false)
                .maxAgeSeconds(MAX_AGE_SECONDS);
    }

    /** Nothing to add when no origin is listed: the API then sends no CORS headers at all. */
    public static Optional<CrossOrigin> of(List<String> origins) {
        return origins.isEmpty() ? Optional.empty() : Optional.of(new CrossOrigin(origins));
    }

    @Override
    public void handle(RoutingContext ctx) {
        // Every answer depends on the Origin it was asked with, so shared caches must key on it.
        MultiMap headers = ctx.response().headers();
        if (headers.getAll("Vary").stream()
                .noneMatch(v -> v.toLowerCase(Locale.ROOT).contains("origin"))) {
            headers.add("Vary", "Origin");
        }
        String origin = ctx.request().getHeader("Origin");
        if (origin != null && origins.contains(origin.toLowerCase(Locale.ROOT))) {
            cors.handle(ctx);
        } else {
            ctx.next();
        }
    }
}
