package uk.co.tradersflow.platform.http;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.function.Function;

/**
 * What route modules share: the body reader (1 MiB, no uploads), the authentication guard and
 * the client-info reader, plus the two ways a handler answers (JSON or no content). Failures go
 * to {@code ctx.fail}, and from there to the one problem responder.
 */
public final class Api {
    public static final long MAX_JSON_BODY = 1024 * 1024;
    public static final String JSON = "application/json; charset=utf-8";
    /** {@link #JSON}, as the header value every JSON reply sends (ASCII bytes, copied as they are). */
    private static final CharSequence JSON_HEADER = io.vertx.core.http.HttpHeaders.createOptimized(JSON);

    private final Handler<RoutingContext> body = BodyHandler.create(false).setBodyLimit(MAX_JSON_BODY);
    /**
     * The same reader, for after the guards. Vert.x Web refuses a body handler after other
     * handlers on a route (its default order reads bodies first); a lambda is not typed as one.
     */
    private final Handler<RoutingContext> bodyAfterGuards = ctx -> body.handle(ctx);

    private final Handler<RoutingContext> auth;
    private final Handler<RoutingContext> rateLimit;
    private final Handler<RoutingContext> ownerGuard;
    private final ClientInfo clients;

    /**
     * The guards come in as plain handlers so that this kernel class names no capability: the
     * authentication guard (which attaches the {@code Principal}), the per-user rate limit and
     * the owner gate, in that order of use.
     */
    public Api(
            Handler<RoutingContext> auth,
            Handler<RoutingContext> rateLimit,
            Handler<RoutingContext> ownerGuard,
            ClientInfo clients) {
        this.auth = auth;
        this.rateLimit = rateLimit;
        this.ownerGuard = ownerGuard;
        this.clients = clients;
    }

    /**
     * A route that requires a signed-in user, counts against the user's rate limit, and reads a
     * JSON body (if any). The body is read only once the token holds: an anonymous client cannot
     * make the server buffer a megabyte, or wait on a slow body, before it answers 401.
     */
    public Route authenticated(Router router, HttpMethod method, String path) {
        return router.route(method, path)
                .handler(Api::pause)
                .handler(auth)
                .handler(rateLimit)
                .handler(bodyAfterGuards)
                .failureHandler(UnreadBody::discardThenNext);
    }

    /** A signed-in, rate-limited route whose handler reads the body itself, as a stream (uploads). */
    public Route authenticatedStream(Router router, HttpMethod method, String path) {
        return router.route(method, path)
                .handler(Api::pause)
                .handler(auth)
                .handler(rateLimit)
                .failureHandler(UnreadBody::discardThenNext);
    }

    /**
     * An admin route: signed in (401 otherwise) and an owner (403 {@code not_owner} otherwise); the
     * body after both. The user's rate limit comes before the owner check, which reads the database
     * and records every refusal: a signed-in user probing the admin area cannot write audit entries
     * unbounded.
     */
    public Route owner(Router router, HttpMethod method, String path) {
        return router.route(method, path)
                .handler(Api::pause)
                .handler(auth)
                .handler(rateLimit)
                .handler(ownerGuard)
                .handler(bodyAfterGuards)
                .failureHandler(UnreadBody::discardThenNext);
    }

    /**
     * Marks a {@link #staff} route for the owner gate: support staff pass it whatever the method,
     * and the route's service decides what each role may do.
     */
    public static final String STAFF_ROUTE = "tf.staffRoute";

    /**
     * An admin route open to owners and support staff alike (signed in, on either allow-list,
     * mailbox proven; 401 or 403 {@code not_owner} otherwise), whatever its method: the service
     * behind it checks the role per request (support may ask for sign-in links, nothing else) and
     * refuses with 403 {@code insufficient_role}. The body after the guards, as {@link #owner}.
     */
    public Route staff(Router router, HttpMethod method, String path) {
        return router.route(method, path)
                .handler(Api::pause)
                .handler(auth)
                .handler(rateLimit)
                .handler(ctx -> {
                    ctx.put(STAFF_ROUTE, Boolean.TRUE);
                    ctx.next();
                })
                .handler(ownerGuard)
                .handler(bodyAfterGuards)
                .failureHandler(UnreadBody::discardThenNext);
    }

    /**
     * Every path under {@code path} (a prefix route, {@code /admin/*}) that no route answered: the
     * same guards as {@link #owner}, then on to the router's own 404 or 405. Ordered after every
     * route of every module (whatever the mount order) and before the router's last handler, so a
     * known route still runs its own guards once, and an outsider asking for an unknown path gets
     * 401 or 403 like on a known one, learning nothing about which paths exist. The body is never
     * read (the router's answer discards it).
     */
    public Route ownerOnUnknownPaths(Router router, String path) {
        return router.route(path)
                .order(Integer.MAX_VALUE - 1)
                .handler(Api::pause)
                .handler(auth)
                .handler(rateLimit)
                .handler(ownerGuard)
                .failureHandler(UnreadBody::discardThenNext);
    }

    /**
     * Holds the body while the guards (asynchronous) decide: bytes that arrived meanwhile would
     * otherwise be dropped before the body reader or the stream handler is there to take them.
     */
    private static void pause(RoutingContext ctx) {
        ctx.request().pause();
        ctx.next();
    }

    /** A route open to anyone that reads a JSON body (if any). */
    public Route open(Router router, HttpMethod method, String path) {
        return router.route(method, path).handler(body);
    }

    public Handler<RoutingContext> auth() {
        return auth;
    }

    /** The per-user rate limit, for routes that establish the principal themselves (the console's cookie). */
    public Handler<RoutingContext> rateLimit() {
        return rateLimit;
    }

    /** The owner gate, for routes that establish the principal themselves (the console's cookie). */
    public Handler<RoutingContext> ownerGuard() {
        return ownerGuard;
    }

    public Handler<RoutingContext> body() {
        return body;
    }

    public ClientInfo clients() {
        return clients;
    }

    public static void json(RoutingContext ctx, int status, JsonObject payload) {
        send(ctx, status, payload.toBuffer());
    }

    /** Completes the request from a future: JSON on success, the problem responder on failure. */
    public static <T> void reply(RoutingContext ctx, Future<T> result, int status, Function<T, JsonObject> toJson) {
        replyBuffer(ctx, result, status, value -> toJson.apply(value).toBuffer());
    }

    /**
     * {@link #reply}, for results already rendered as JSON (stored with the row: an invoice and a
     * page of them), whose bytes go out as they are.
     */
    public static <T> void replyRendered(RoutingContext ctx, Future<T> result, int status, Function<T, Buffer> json) {
        replyBuffer(ctx, result, status, json);
    }

    private static <T> void replyBuffer(RoutingContext ctx, Future<T> result, int status, Function<T, Buffer> render) {
        result.onComplete(ar -> {
            if (ar.failed()) {
                ctx.fail(ar.cause());
                return;
            }
            Buffer body;
            try {
                body = render.apply(ar.result());
            } catch (RuntimeException e) {
                ctx.fail(e);
                return;
            }
            send(ctx, status, body);
        });
    }

    private static void send(RoutingContext ctx, int status, Buffer body) {
        ctx.response()
                .setStatusCode(status)
                .putHeader(io.vertx.core.http.HttpHeaders.CONTENT_TYPE, JSON_HEADER)
                .end(body);
    }

    public static void noContent(RoutingContext ctx, Future<?> result) {
        result.onComplete(ar -> {
            if (ar.failed()) {
                ctx.fail(ar.cause());
            } else {
                ctx.response().setStatusCode(204).end();
            }
        });
    }

    /** The {@code {id}} path parameter as a UUID; anything else cannot name a row, so it is 404. */
    public static java.util.UUID pathId(RoutingContext ctx, String name) {
        try {
            return java.util.UUID.fromString(ctx.pathParam(name));
        } catch (RuntimeException e) {
            throw uk.co.tradersflow.error.AppError.notFound();
        }
    }
}
