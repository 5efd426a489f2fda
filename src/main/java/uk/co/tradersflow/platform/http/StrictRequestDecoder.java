package uk.co.tradersflow.platform.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.util.AsciiString;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.impl.VertxHttpRequestDecoder;

/**
 * Vert.x's HTTP/1.x request decoder, reporting to the {@link Http1Guard} what only the decoder
 * sees: every batch of raw bytes (the head and body clocks run on them), whether bytes of a next
 * request wait in its buffer after a read, and a request that carried both Content-Length and
 * chunked Transfer-Encoding, whose Content-Length Netty silently drops (RFC 9112 6.3 allows
 * that for a server that then closes; we reject the request instead, so a proxy that framed it
 * by Content-Length cannot be desynchronised).
 */
final class StrictRequestDecoder extends VertxHttpRequestDecoder {
    private final Http1Guard guard;
    private boolean lengthConflict;

    StrictRequestDecoder(HttpServerOptions options, Http1Guard guard) {
        super(options);
        this.guard = guard;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (msg instanceof ByteBuf bytes) {
            guard.bytesArrived(bytes.readableBytes());
        }
        super.channelRead(ctx, msg);
        ByteBuf rest = internalBuffer();
        guard.readDone(rest != null && rest.isReadable());
    }

    @Override
    protected void handleTransferEncodingChunkedWithContentLength(HttpMessage message) {
        lengthConflict = true;
        super.handleTransferEncodingChunkedWithContentLength(message);
    }

    /**
     * A header's name, exactly as sent. Vert.x's decoder interns a few common names, but recognises
     * some by comparing only part of their bytes: "Content-Xength" came back as Content-Length, so
     * a request that a proxy in front of us passes on as having no body was read here as having
     * one, and the start of the next request on the connection (perhaps another client's) as its
     * body (SmugglingThroughTheBalancerTest). An interned name is kept only when every byte matches.
     */
    @Override
    protected AsciiString splitHeaderName(byte[] sb, int start, int length) {
        AsciiString name = super.splitHeaderName(sb, start, length);
        return spells(name, sb, start, length) ? name : new AsciiString(sb, start, length, true);
    }

    /** Whether {@code name} is, ignoring ASCII case, the bytes sent (no copy: every header, every request). */
    private static boolean spells(AsciiString name, byte[] sb, int start, int length) {
        if (name.length() != length) {
            return false;
        }
        for (int i = 0; i < length; i++) {
            if (lower(name.byteAt(i)) != lower(sb[start + i])) {
                return false;
            }
        }
        return true;
    }

    private static int lower(byte b) {
        return b >= 'A' && b <= 'Z' ? b + ('a' - 'A') : b;
    }

    /** Whether the request just decoded had both framings; cleared by asking. */
    boolean takeLengthConflict() {
        boolean conflict = lengthConflict;
        lengthConflict = false;
        return conflict;
    }
}
