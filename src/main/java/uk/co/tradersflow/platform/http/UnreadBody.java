package uk.co.tradersflow.platform.http;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A request refused before its body was read (no token, too large, wrong type) must still let
 * the client read the answer. The route's failure handler calls {@link #discard} before the
 * problem responder answers.
 */
public final class UnreadBody {
    private static final Duration DISCARD_FOR = Duration.ofSeconds(5);
    private static final String DISCARDING = "tf.discardingBody";
    /** RFC 9113 8.1: after a complete response, NO_ERROR asks the client to stop sending the body. */
    private static final long NO_ERROR = 0;

    private UnreadBody() {}

    /** A route failure handler: {@link #discard}, then on to the next failure handler. */
    public static void discardThenNext(RoutingContext ctx) {
        discard(ctx);
        ctx.next();
    }

    /**
     * HTTP/1.x: a request that announced no body (RFC 9112 6.3: neither Transfer-Encoding nor a
     * Content-Length other than 0) has nothing left to read, and its connection stays open for the
     * next request: closing it made every refusal (an expired or forged token, a 429) cost the
     * client, and the server, a new TLS handshake. A body still on its way is read and dropped, so
     * the client gets to read the answer rather than a reset, and the connection (whose next
     * request would begin after a body we no longer follow) is told {@code Connection: close} and
     * shut down: closed once the answer is out and the body has ended, or after a few seconds if
     * it has not (RFC 9112 9.6: the server that says "close" closes). HTTP/2: streams are framed on their own
     * and {@code Connection} is a forbidden header there (sending it made the answer a
     * PROTOCOL_ERROR reset); the answer goes out and only this stream is reset, with NO_ERROR, once
     * it has.
     */
    public static void discard(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        if (request.isEnded() || ctx.get(DISCARDING) != null) {
            return;
        }
        ctx.put(DISCARDING, true);
        if (request.version() == HttpVersion.HTTP_2) {
            ctx.addEndHandler(v -> {
                if (!request.isEnded()) {
                    ctx.response().reset(NO_ERROR);
                }
            });
            return;
        }
        if (!announcesBody(request)) {
            // The request was paused before its (empty) end was taken: take it, and the next follows.
            request.resume();
            return;
        }
        // After Vert.x's own headers, which would turn "close" into "keep-alive" on an HTTP/1.0
        // keep-alive request.
        ctx.addHeadersEndHandler(v -> ctx.response().putHeader("Connection", "close"));
        request.handler(ignored -> {});
        request.resume();
        // RFC 9112 9.6: the side that says "close" closes. A shut-down connection takes no new
        // request, answers those already queued, closes once the answer is out and the body has
        // ended, and after DISCARD_FOR closes whatever is still going.
        request.connection().shutdown(DISCARD_FOR.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Whether an HTTP/1.x request's head announces a body (RFC 9112 6.3). */
    static boolean announcesBody(HttpServerRequest request) {
        String length = request.getHeader(HttpHeaders.CONTENT_LENGTH);
        return request.headers().contains(HttpHeaders.TRANSFER_ENCODING) || length != null && !length.equals("0");
    }
}
