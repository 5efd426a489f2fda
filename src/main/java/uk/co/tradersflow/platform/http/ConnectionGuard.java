package uk.co.tradersflow.platform.http;

import io.netty.channel.Channel;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.impl.Http1xServerConnection;
import io.vertx.core.net.impl.ConnectionBase;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import uk.co.tradersflow.config.AppConfig.HttpLimits;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;

/**
 * What every listener does with a new connection before any request: counts it against its
 * client address's cap (over the cap it is closed at once), and on HTTP/1.x puts the
 * {@link Http1Guard} (strict framing, head and body deadlines) between the request decoder and
 * Vert.x. Vert.x 5 has no public hook into the HTTP pipeline; its connection handler runs on the
 * event loop right after the pipeline is built and before the first byte of a request is
 * decoded, which is the moment the guard needs.
 */
public final class ConnectionGuard implements Handler<HttpConnection> {
    private final HttpLimits limits;
    private final HttpServerOptions options;
    private final ClientConnections clients;

    private ConnectionGuard(HttpLimits limits, HttpServerOptions options, ClientConnections clients) {
        this.limits = limits;
        this.options = options;
        this.clients = clients;
    }

    /**
     * Creates a server from {@code options} with the guard installed. HTTP/2 over cleartext is
     * turned off: its upgrade path hands Vert.x the first request before the connection handler
     * runs, so that request would pass unguarded (the plain port needs no h2c anyway).
     */
    public static HttpServer server(io.vertx.core.Vertx vertx, HttpServerOptions options, HttpLimits limits) {
        options.setHttp2ClearTextEnabled(false);
        ConnectionGuard guard = new ConnectionGuard(
                limits, new HttpServerOptions(options), ClientConnections.of(vertx, limits.maxConnectionsPerIp()));
        return vertx.createHttpServer(options)
                .connectionHandler(guard)
                .invalidRequestHandler(ConnectionGuard::answerInvalid);
    }

    @Override
    public void handle(HttpConnection connection) {
        Channel channel = ((ConnectionBase) connection).channel();
        if (channel.remoteAddress() instanceof InetSocketAddress remote) {
            InetAddress address = ClientConnections.clientOf(remote.getAddress());
            if (!clients.tryOpen(address)) {
                channel.close();
                return;
            }
            channel.closeFuture().addListener(f -> clients.closed(address));
        }
        if (connection instanceof Http1xServerConnection http1) {
            ChannelPipeline pipeline = http1.channelHandlerContext().pipeline();
            Http1Guard guard = new Http1Guard(limits);
            StrictRequestDecoder decoder = new StrictRequestDecoder(options, guard);
            guard.decoder(decoder);
            pipeline.replace("httpDecoder", "httpDecoder", decoder);
            pipeline.addAfter("httpDecoder", "tfGuard", guard);
        }
    }

    /**
     * A request the decoder or the {@link Http1Guard} refused: answered as problem+json (Vert.x's
     * own answer has no body), and the connection closed, since where the next request would
     * begin cannot be trusted.
     */
    static void answerInvalid(HttpServerRequest request) {
        Throwable cause = request.decoderResult().cause();
        AppError error;
        int status = 400;
        if (cause instanceof TooLongHttpLineException) {
            status = 414;
            error = AppError.of(ErrorCode.MALFORMED_REQUEST, "The request line is too long");
        } else if (cause instanceof TooLongHttpHeaderException) {
            status = 431;
            error = AppError.of(ErrorCode.MALFORMED_REQUEST, "The request headers are too large");
        } else if (cause instanceof Http1Guard.FramingViolation violation) {
            error = AppError.of(ErrorCode.MALFORMED_REQUEST, violation.getMessage());
        } else {
            error = AppError.of(ErrorCode.MALFORMED_REQUEST, "The request is not valid HTTP");
        }
        String path = request.path() != null && request.path().startsWith("/") ? request.path() : "/";
        HttpServerResponse response = request.response();
        // The router (and with it RequestIds and SecurityHeaders) never sees this request.
        if (request.isSSL()) {
            response.putHeader("Strict-Transport-Security", SecurityHeaders.HSTS);
        }
        response.putHeader(RequestIds.HEADER, RequestIds.fresh())
                .putHeader("Content-Security-Policy", SecurityHeaders.CSP)
                .putHeader("Referrer-Policy", "no-referrer")
                .putHeader("X-Frame-Options", "DENY")
                .putHeader("Permissions-Policy", SecurityHeaders.PERMISSIONS);
        response.setStatusCode(status)
                .putHeader("Content-Type", ProblemResponder.CONTENT_TYPE)
                .putHeader("Connection", "close")
                .putHeader("Cache-Control", "no-store")
                .putHeader("X-Content-Type-Options", "nosniff")
                .end(ProblemResponder.toJson(error, path).put("status", status).toBuffer())
                .onComplete(v -> request.connection().close());
    }
}
