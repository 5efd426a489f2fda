package uk.co.tradersflow.platform.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.co.tradersflow.config.AppConfig.HttpLimits;

/**
 * One HTTP/1.x connection's guard, between the request decoder and Vert.x.
 *
 * <p><b>Framing</b> (RFC 9112 6.1, 6.3): a request with both Content-Length and
 * Transfer-Encoding, more than one Transfer-Encoding field, any coding but a single
 * {@code chunked}, or Transfer-Encoding on HTTP/1.0 is handed to Vert.x as an invalid request
 * (answered 400 and the connection closed), and nothing the client sent after its head reaches
 * Vert.x: bytes a front proxy framed differently can never run as a second request.
 *
 * <p><b>Slow clients</b>: a request head must be complete within the head timeout, counted from
 * the connection's start or from the first byte of the head; a body must bring at least the
 * minimum rate on average over every body window. Time the server itself holds the client back
 * (Vert.x has stopped reading: a paused request, a slow disk) is never held against it. A client
 * that fails either is disconnected; there is no answer that could help it.
 *
 * <p>The head clock costs a request no timer: a head that starts notes the time, and one timer per
 * connection, always due within a head timeout, compares when it fires and otherwise sets itself
 * again for what is left. Scheduling and cancelling a timer on every request of a keep-alive
 * connection was a share of each request's cost on the event loop.
 */
final class Http1Guard extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(Http1Guard.class);
    /** Body windows are checked this many times each, to notice when the server held the client back. */
    private static final int TICKS_PER_WINDOW = 5;

    private final HttpLimits limits;
    private StrictRequestDecoder decoder;
    private ChannelHandlerContext ctx;
    /** Between a request's head and the end of its body. */
    private boolean inBody;
    /** An invalid request was passed on: everything after it is dropped. */
    private boolean rejected;

    /** The connection's one head clock: due within a head timeout while the connection is open. */
    private ScheduledFuture<?> headTimer;
    /** A head is on its way (from the connection's start, or its first byte): since {@link #headStartedAt}. */
    private boolean headPending;

    private long headStartedAt;
    private ScheduledFuture<?> bodyCheck;
    private boolean awaitingContinue;
    private long windowStart;
    private long windowBytes;
    private boolean heldBackInWindow;

    Http1Guard(HttpLimits limits) {
        this.limits = limits;
    }

    void decoder(StrictRequestDecoder decoder) {
        this.decoder = decoder;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        startHeadDeadline();
        armHeadTimer(limits.headTimeout().toNanos());
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        cancelTimers();
        super.channelInactive(ctx);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (rejected) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpRequest request) {
            cancelHeadDeadline();
            String violation = framingViolation(request);
            if (violation != null) {
                reject(ctx, request, violation);
                return;
            }
            inBody = true;
            awaitingContinue = request.headers().contains(HttpHeaderNames.EXPECT);
            windowBytes = 0; // the body window starts when a read ends with the body still to come
        }
        if (msg instanceof LastHttpContent) {
            inBody = false;
            cancelBodyCheck();
        }
        ctx.fireChannelRead(msg);
    }

    /** Raw bytes reached the decoder. */
    void bytesArrived(int count) {
        if (inBody) {
            windowBytes += count;
            awaitingContinue = false;
        } else if (!headPending && !rejected) {
            startHeadDeadline();
        }
    }

    /** The decoder has passed on all it could of one read; {@code leftover}: part of a next request waits in it. */
    void readDone(boolean leftover) {
        if (rejected) {
            return;
        }
        if (inBody && bodyCheck == null) {
            // Within the read that brought the head (its bytes were counted as the head's): the
            // body's first window starts here.
            windowStart = System.nanoTime();
            heldBackInWindow = false;
            long period = Math.max(1, limits.bodyWindow().toMillis() / TICKS_PER_WINDOW);
            bodyCheck = ctx.executor().scheduleAtFixedRate(this::checkBodyRate, period, period, TimeUnit.MILLISECONDS);
        } else if (!inBody && leftover && !headPending) {
            startHeadDeadline();
        }
    }

    static String framingViolation(HttpRequest request, boolean lengthConflict) {
        // Netty still frames the WebSocket draft of 2010 (hixie-76): a GET carrying both of these
        // keys has an 8-byte body, which no proxy in front of us would read as such. The bytes it
        // sent as the next request would be swallowed here: a desync, and a way to smuggle.
        // CONNECT asks for a tunnel, which this server never opens; HAProxy 2.6 ignores a CONNECT's
        // Content-Length yet passes it on, so a body would be framed here and not there.
        if (HttpMethod.CONNECT.equals(request.method())) {
            return "CONNECT is not served here";
        }
        if (request.headers().contains(HttpHeaderNames.SEC_WEBSOCKET_KEY1)
                || request.headers().contains(HttpHeaderNames.SEC_WEBSOCKET_KEY2)) {
            return "Sec-WebSocket-Key1 and Sec-WebSocket-Key2 (a WebSocket draft of 2010) are not accepted";
        }
        if (!lengthConflict && !request.headers().contains(HttpHeaderNames.TRANSFER_ENCODING)) {
            return null; // nearly every request: no list built to find that out
        }
        List<String> codings = request.headers().getAll(HttpHeaderNames.TRANSFER_ENCODING);
        if (codings.isEmpty()) {
            return null;
        }
        if (lengthConflict || request.headers().contains(HttpHeaderNames.CONTENT_LENGTH)) {
            return "A request must not carry both Content-Length and Transfer-Encoding";
        }
        if (request.protocolVersion().equals(HttpVersion.HTTP_1_0)) {
            return "Transfer-Encoding is not allowed on HTTP/1.0";
        }
        if (codings.size() > 1) {
            return "Send Transfer-Encoding once";
        }
        if (!codings.get(0).trim().equalsIgnoreCase(HttpHeaderValues.CHUNKED.toString())) {
            // "chunked, identity" would leave the body's end to the connection's close; other codings
            // are not implemented here. Either way the body's length is not what it claims.
            return "Transfer-Encoding must be exactly chunked";
        }
        return null;
    }

    private String framingViolation(HttpRequest request) {
        boolean conflict = decoder != null && decoder.takeLengthConflict();
        return request.decoderResult().isSuccess() ? framingViolation(request, conflict) : null;
    }

    /**
     * Vert.x answers a request whose decoder result failed through the server's invalid-request
     * handler and then closes the connection, after any earlier pipelined response: so the 400
     * is written in order, and the request ends here with no body.
     */
    private void reject(ChannelHandlerContext ctx, HttpRequest request, String violation) {
        rejected = true;
        inBody = false;
        cancelTimers();
        request.setDecoderResult(DecoderResult.failure(new FramingViolation(violation)));
        // Not keep-alive, so Vert.x's answer says Connection: close (an HTTP/1.0 keep-alive would
        // otherwise be echoed on a connection about to close).
        request.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ctx.fireChannelRead(request);
        ctx.fireChannelRead(LastHttpContent.EMPTY_LAST_CONTENT);
    }

    private void startHeadDeadline() {
        headPending = true;
        headStartedAt = System.nanoTime();
    }

    private void armHeadTimer(long delayNanos) {
        headTimer = ctx.executor().schedule(this::headClock, Math.max(1, delayNanos), TimeUnit.NANOSECONDS);
    }

    /** The head clock's tick: a pending head out of time closes the connection; else it is due again within a timeout. */
    private void headClock() {
        headTimer = null;
        if (!ctx.channel().isActive() || rejected) {
            return;
        }
        long timeout = limits.headTimeout().toNanos();
        if (!headPending) {
            armHeadTimer(timeout);
            return;
        }
        long now = System.nanoTime();
        long left = headStartedAt + timeout - now;
        if (left > 0) {
            armHeadTimer(left);
            return;
        }
        if (!ctx.channel().config().isAutoRead()) {
            // Vert.x stopped reading (a pipelined request waits for its turn): not the client's delay.
            headStartedAt = now;
            armHeadTimer(timeout);
            return;
        }
        log.info(
                "closing a connection whose request head did not arrive within {} ms",
                limits.headTimeout().toMillis());
        ctx.close();
    }

    private void checkBodyRate() {
        if (!inBody || !ctx.channel().isActive()) {
            cancelBodyCheck();
            return;
        }
        if (!ctx.channel().config().isAutoRead() || awaitingContinue) {
            heldBackInWindow = true;
        }
        long now = System.nanoTime();
        if (now - windowStart < limits.bodyWindow().toNanos()) {
            return;
        }
        if (!heldBackInWindow && windowBytes < limits.minBodyBytesPerWindow()) {
            log.info(
                    "closing a connection whose request body brought {} bytes in {} ms, under the minimum {}",
                    windowBytes,
                    limits.bodyWindow().toMillis(),
                    limits.minBodyBytesPerWindow());
            cancelBodyCheck();
            ctx.close();
            return;
        }
        windowStart = now;
        windowBytes = 0;
        heldBackInWindow = false;
    }

    private void cancelHeadDeadline() {
        headPending = false;
    }

    private void cancelBodyCheck() {
        if (bodyCheck != null) {
            bodyCheck.cancel(false);
            bodyCheck = null;
        }
    }

    private void cancelTimers() {
        cancelHeadDeadline();
        if (headTimer != null) {
            headTimer.cancel(false);
            headTimer = null;
        }
        cancelBodyCheck();
    }

    /** Why a request was refused before Vert.x saw it; its message is safe to show the client. */
    static final class FramingViolation extends IllegalArgumentException {
        FramingViolation(String message) {
            super(message, null);
        }

        @Override
        public synchronized Throwable fillInStackTrace() {
            return this; // a client's mistake, answered and counted, never a stack trace in the log
        }
    }
}
