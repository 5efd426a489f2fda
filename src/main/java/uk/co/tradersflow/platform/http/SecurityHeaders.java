package uk.co.tradersflow.platform.http;

import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;

/**
 * The contract's response headers. The API serves JSON only, so the CSP forbids everything;
 * responses are {@code no-store} unless a route has chosen a cache policy of its own (it puts its
 * own {@code Cache-Control}, which replaces this one).
 *
 * <p>Names and values are built once as Vert.x's optimized header strings (ASCII bytes, copied to
 * the response as they are): they go out on every response.
 */
public final class SecurityHeaders implements Handler<RoutingContext> {
    static final String HSTS = "max-age=63072000; includeSubDomains; preload";
    static final String CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
    static final String PERMISSIONS =
            "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()";

    private static final CharSequence[][] ALWAYS = optimized(new String[][] {
        {"Content-Security-Policy", CSP},
        {"X-Content-Type-Options", "nosniff"},
        {"Referrer-Policy", "no-referrer"},
        {"X-Frame-Options", "DENY"},
        {"Permissions-Policy", PERMISSIONS},
        {"Cross-Origin-Opener-Policy", "same-origin"},
        {"Cross-Origin-Resource-Policy", "same-origin"},
        {"Cache-Control", "no-store"}
    });
    private static final CharSequence[][] HTTPS_ONLY = optimized(new String[][] {{"Strict-Transport-Security", HSTS}});

    private final boolean https;

    public SecurityHeaders(boolean https) {
        this.https = https;
    }

    @Override
    public void handle(RoutingContext ctx) {
        MultiMap headers = ctx.response().headers();
        if (https) {
            set(headers, HTTPS_ONLY);
        }
        set(headers, ALWAYS);
        ctx.next();
    }

    private static void set(MultiMap headers, CharSequence[][] pairs) {
        for (CharSequence[] pair : pairs) {
            headers.set(pair[0], pair[1]);
        }
    }

    private static CharSequence[][] optimized(String[][] pairs) {
        CharSequence[][] out = new CharSequence[pairs.length][];
        for (int i = 0; i < pairs.length; i++) {
            out[i] = new CharSequence[] {
                HttpHeaders.createOptimized(pairs[i][0]), HttpHeaders.createOptimized(pairs[i][1])
            };
        }
        return out;
    }
}
