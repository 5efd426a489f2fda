package uk.co.tradersflow.platform.http;

import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;

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
     * HTTP/1.x: the body still on its way is read and dropped, so the client gets to read the
     * answer rather than a reset, and the connection (whose next request would begin after a body
     * we no longer follow) closes after the answer, or after a few seconds if the body has not
     * ended by then. HTTP/2: streams are framed on their own and {@code Connection} is a forbidden
     * header there (sending it made the answer a PROTOCOL_ERROR reset); the answer goes out and
     * only this stream is reset, with NO_ERROR, once it has.
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
        if (!ctx.response().headWritten()) {
            ctx.response().putHeader("Connection", "close");
        }
        long timer = ctx.vertx().setTimer(DISCARD_FOR.toMillis(), id -> {
            if (!request.isEnded()) {
                request.connection().close();
            }
        });
        request.handler(ignored -> {});
        request.endHandler(v -> ctx.vertx().cancelTimer(timer));
        request.resume();
    }
}
