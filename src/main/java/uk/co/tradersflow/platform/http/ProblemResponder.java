package uk.co.tradersflow.platform.http;

import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.pgclient.PgException;
import java.io.IOException;
import java.net.ConnectException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;

/**
 * Turns any failure into an RFC 9457 {@code application/problem+json} answer. Unexpected
 * failures are logged here, once, with the request id, and answered 500 without detail.
 */
public final class ProblemResponder {
    private static final Logger log = LoggerFactory.getLogger(ProblemResponder.class);
    public static final String CONTENT_TYPE = "application/problem+json";

    private ProblemResponder() {}

    /** Router failure handler: maps {@link AppError}, web-layer status failures and the rest. */
    public static void handle(RoutingContext ctx) {
        Throwable failure = ctx.failure();
        if (failure != null && clientWentAway(ctx, failure)) {
            // Nobody is left to answer: the request log names it 499 (client closed request).
            log.info(
                    "client closed the connection before the answer request_id={} route={}",
                    RequestIds.of(ctx),
                    ctx.normalizedPath());
            RequestLog.unanswered(ctx, RequestLog.CLIENT_CLOSED);
            return;
        }
        AppError error = failure == null ? fromStatus(ctx.statusCode()) : classify(ctx, failure);
        RequestLog.unanswered(ctx, error.code().status());
        send(ctx, error);
    }

    public static void send(RoutingContext ctx, AppError error) {
        HttpServerResponse response = ctx.response();
        if (response.headWritten()) {
            // Too late to change the status; the best we can do is cut the stream short.
            response.reset();
            return;
        }
        JsonObject body = toJson(error, ctx.request().path());
        response.setStatusCode(error.code().status()).putHeader("Content-Type", CONTENT_TYPE);
        error.putLimitHeadersOn(response);
        response.end(body.toBuffer());
    }

    public static JsonObject toJson(AppError error, String instance) {
        JsonObject body = new JsonObject()
                .put(
                        "type",
                        "https://docs.tradersflow.co.uk/problems/"
                                + error.code().code().replace('_', '-'))
                .put("title", error.code().title())
                .put("status", error.code().status())
                .put("detail", error.detail())
                .put("code", error.code().code())
                .put("instance", instance);
        if (!error.fieldErrors().isEmpty()) {
            JsonArray errors = new JsonArray();
            error.fieldErrors()
                    .forEach(f ->
                            errors.add(new JsonObject().put("field", f.field()).put("message", f.message())));
            body.put("errors", errors);
        }
        return body;
    }

    private static AppError classify(RoutingContext ctx, Throwable failure) {
        if (failure instanceof AppError appError) {
            return appError;
        }
        if (failure instanceof io.vertx.ext.web.handler.HttpException http) {
            return fromStatus(http.getStatusCode());
        }
        if (isMalformedFraming(failure)) {
            // The client's bytes, not our code: no stack trace, and one line a probe cannot inflate.
            log.warn(
                    "malformed request framing request_id={} route={}: {}",
                    RequestIds.of(ctx),
                    ctx.normalizedPath(),
                    rootCause(failure).toString());
            return AppError.of(ErrorCode.MALFORMED_REQUEST, "The request body's framing is malformed");
        }
        if (failure instanceof io.vertx.core.json.DecodeException) {
            return AppError.of(ErrorCode.MALFORMED_JSON, "The request body is not valid JSON");
        }
        if (isConcurrentChange(failure)) {
            log.warn(
                    "conflicting concurrent change request_id={} route={}: SQLSTATE {}",
                    RequestIds.of(ctx),
                    ctx.normalizedPath(),
                    ((PgException) failure).getSqlState());
            return AppError.of(
                    ErrorCode.CONFLICT, "Something this request depends on changed meanwhile; reload and try again");
        }
        if (isUnavailable(failure)) {
            log.warn(
                    "dependency unavailable request_id={} route={}: {}",
                    RequestIds.of(ctx),
                    ctx.normalizedPath(),
                    failure.toString());
            return AppError.of(
                    ErrorCode.SERVICE_UNAVAILABLE, "A service this request needs is unavailable; try again shortly");
        }
        log.error(
                "unexpected failure request_id={} route={} {}",
                RequestIds.of(ctx),
                ctx.request().method(),
                ctx.normalizedPath(),
                failure);
        return AppError.of(ErrorCode.INTERNAL_ERROR, "Something went wrong on our side");
    }

    /**
     * A row this request referred to (checked moments before) was deleted by another request, or
     * Postgres picked it to break a deadlock or a serialization conflict: a race, 409, not a bug.
     * Unique violations stay 500: where one is expected the route handles it, anywhere else it is a bug.
     */
    static boolean isConcurrentChange(Throwable failure) {
        return failure instanceof PgException pg
                && pg.getSqlState() != null
                && switch (pg.getSqlState()) {
                    case "23503", "40001", "40P01" -> true;
                    default -> false;
                };
    }

    /**
     * The request's own connection is closed and nothing was sent: the client gave up (or was cut
     * off) mid-request, so the failure its reading caused is the client's doing, not a dependency's.
     */
    static boolean clientWentAway(RoutingContext ctx, Throwable failure) {
        return ctx.response().closed()
                && !ctx.response().headWritten()
                && !(failure instanceof AppError)
                && !isMalformedFraming(failure);
    }

    /**
     * Netty's HTTP decoder refused the bytes of the request (a chunk size that overflows, a bad
     * chunk line, a header too long): a malformed request, thrown from inside the codec.
     */
    static boolean isMalformedFraming(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof io.netty.handler.codec.DecoderException
                    || t instanceof io.netty.handler.codec.TooLongFrameException
                    || t instanceof io.netty.handler.codec.CorruptedFrameException) {
                return true;
            }
            StackTraceElement[] frames = t.getStackTrace();
            if (frames.length > 0 && frames[0].getClassName().startsWith("io.netty.handler.codec.http.")) {
                return true;
            }
        }
        return false;
    }

    private static Throwable rootCause(Throwable failure) {
        Throwable t = failure;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t;
    }

    /**
     * Connection failures and timeouts to Postgres or Redis mean 503, not 500: retrying helps. Any
     * I/O failure counts (a connection reset by a restarting Postgres is Netty's
     * {@code Errors$NativeIoException}, an {@link IOException}), but not a file the code looked
     * for and did not find, or may not open: those are bugs or settings, not an outage.
     */
    static boolean isUnavailable(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof IOException && !(t instanceof NoSuchFileException || t instanceof AccessDeniedException)
                    || t instanceof ConnectException
                    || t instanceof TimeoutException
                    || t instanceof io.vertx.core.VertxException
                            && String.valueOf(t.getMessage()).contains("Connection")
                    || t instanceof io.netty.channel.ConnectTimeoutException
                    || t instanceof io.vertx.core.http.HttpClosedException
                    || t.getClass().getName().equals("io.vertx.sqlclient.ClosedConnectionException")
                    || t.getClass().getSimpleName().endsWith("TimeoutException")
                    || t instanceof PgException pg
                            && pg.getSqlState() != null
                            && isTransientSqlState(pg.getSqlState())) {
                return true;
            }
        }
        return false;
    }

    /** 08 connection exception, 53 insufficient resources (too many connections), 57P operator intervention. */
    private static boolean isTransientSqlState(String state) {
        return state.startsWith("08") || state.startsWith("53") || state.startsWith("57P");
    }

    private static AppError fromStatus(int status) {
        return switch (status) {
            case 400 -> AppError.of(ErrorCode.MALFORMED_REQUEST, "The request could not be understood");
            case 401 -> AppError.of(ErrorCode.UNAUTHORIZED);
            case 403 -> AppError.of(ErrorCode.FORBIDDEN);
            case 404 -> AppError.notFound();
            case 405 -> AppError.of(ErrorCode.METHOD_NOT_ALLOWED, "That method is not allowed on this resource");
            case 413 -> AppError.of(ErrorCode.PAYLOAD_TOO_LARGE, "The request body is too large");
            case 415 -> AppError.of(ErrorCode.UNSUPPORTED_MEDIA_TYPE, "Send application/json");
            case 503 -> AppError.of(ErrorCode.SERVICE_UNAVAILABLE);
            default -> AppError.of(ErrorCode.INTERNAL_ERROR, "Something went wrong on our side");
        };
    }
}
