package uk.co.tradersflow.platform.http;

import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.ext.web.RoutingContext;

/**
 * The contract's response headers. The API serves JSON only, so the CSP forbids everything;
 * responses are {@code no-store} unless a route has chosen a cache policy of its own.
 */
public final class SecurityHeaders implements Handler<RoutingContext> {
    static final String HSTS = "max-age=63072000; includeSubDomains; preload";
    static final String CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
    static final String PERMISSIONS =
            "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()";

    private final boolean https;

    public SecurityHeaders(boolean https) {
        this.https = https;
    }

    @Override
    public void handle(RoutingContext ctx) {
        MultiMap headers = ctx.response().headers();
        if (https) {
            headers.set("Strict-Transport-Security", HSTS);
        }
        headers.set("Content-Security-Policy", CSP)
                .set("X-Content-Type-Options", "nosniff")
                .set("Referrer-Policy", "no-referrer")
                .set("X-Frame-Options", "DENY")
                .set("Permissions-Policy", PERMISSIONS)
                .set("Cross-Origin-Opener-Policy", "same-origin")
                .set("Cross-Origin-Resource-Policy", "same-origin");
        ctx.addHeadersEndHandler(v -> {
            if (!headers.contains("Cache-Control")) {
                headers.set("Cache-Control", "no-store");
            }
        });
        ctx.next();
    }
}
