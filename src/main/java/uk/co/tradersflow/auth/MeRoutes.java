package uk.co.tradersflow.auth;

import static io.vertx.core.http.HttpMethod.DELETE;
import static io.vertx.core.http.HttpMethod.GET;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.platform.http.Api;
import uk.co.tradersflow.platform.http.ClientInfo;
import uk.co.tradersflow.platform.http.JsonInput;
import uk.co.tradersflow.platform.http.RouteModule;
import uk.co.tradersflow.platform.security.Principal;

/**
 * {@code /api/v1/me}: who am I, my devices (sessions), my account's security activity, its
 * export, and closing it ({@link MeService}).
 */
public final class MeRoutes implements RouteModule {
    private final MeService me;
    private final ClientInfo clients;

    public MeRoutes(MeService me, ClientInfo clients) {
        this.clients = clients;
        this.me = me;
    }

    @Override
    public void mount(Router router, Api api) {
        api.authenticated(router, GET, "/api/v1/me").handler(this::me);
        api.authenticated(router, GET, "/api/v1/me/sessions").handler(this::sessions);
        api.authenticated(router, DELETE, "/api/v1/me/sessions/:id").handler(this::endSession);
        api.authenticated(router, GET, "/api/v1/me/activity").handler(this::activity);
        api.authenticated(router, DELETE, "/api/v1/me").handler(this::closeAccount);
        api.authenticated(router, GET, "/api/v1/me/export").handler(this::export);
    }

    private void me(RoutingContext ctx) {
        Api.reply(ctx, me.me(Principal.of(ctx)), 200, m -> new JsonObject()
                .put(
                        "user",
                        new JsonObject()
                                .put("id", m.userId().toString())
                                .put("email", m.email())
                                .put("emailVerified", m.emailVerified()))
                .put(
                        "account",
                        new JsonObject()
                                .put("id", m.accountId().toString())
                                .put("businessName", m.businessName())
                                .put("status", m.accountStatus()))
                .put(
                        "subscription",
                        new JsonObject()
                                .put("status", m.subscriptionStatus())
                                .put(
                                        "trialEnd",
                                        m.trialEnd().map(Object::toString).orElse(null))
                                .put(
                                        "currentPeriodEnd",
                                        m.currentPeriodEnd()
                                                .map(Object::toString)
                                                .orElse(null))));
    }

    private void sessions(RoutingContext ctx) {
        Principal p = Principal.of(ctx);
        Api.reply(ctx, me.sessions(p), 200, sessions -> {
            JsonArray items = new JsonArray();
            sessions.forEach(s -> items.add(new JsonObject()
                    .put("id", s.id().toString())
                    .put("createdAt", s.createdAt().toString())
                    .put("lastUsedAt", s.lastUsedAt().toString())
                    .put("userAgent", s.userAgent())
                    .put("ip", s.ip())
                    .put("current", s.id().equals(p.sessionId()))));
            return new JsonObject().put("items", items).putNull("nextCursor");
        });
    }

    private void endSession(RoutingContext ctx) {
        Api.noContent(ctx, me.endSession(Principal.of(ctx), Api.pathId(ctx, "id"), clients.of(ctx)));
    }

    private void activity(RoutingContext ctx) {
        int limit = limit(ctx);
        MeService.ActivityQuery query =
                new MeService.ActivityQuery(cursor(ctx.request().getParam("cursor")), limit);
        Api.reply(ctx, me.activity(Principal.of(ctx), query), 200, page -> {
            JsonArray items = new JsonArray();
            page.items()
                    .forEach(a -> items.add(new JsonObject()
                            .put("action", a.action())
                            .put("occurredAt", a.occurredAt().toString())
                            .put("ip", a.ip())
                            .put("userAgent", a.userAgent())
                            .put("details", a.details())));
            String next = page.nextBefore()
                    .map(id -> Base64.getUrlEncoder()
                            .withoutPadding()
                            .encodeToString(Long.toString(id).getBytes(StandardCharsets.UTF_8)))
                    .orElse(null);
            return new JsonObject().put("items", items).put("nextCursor", next);
        });
    }

    private void closeAccount(RoutingContext ctx) {
        JsonInput in = JsonInput.of(ctx);
        String password = in.requiredText("password", 1024);
        in.validate();
        Api.reply(
                ctx,
                me.close(new MeService.CloseAccount(Principal.of(ctx), password, clients.of(ctx))),
                202,
                deleteAfter -> new JsonObject().put("status", "closed").put("deleteAfter", deleteAfter.toString()));
    }

    private void export(RoutingContext ctx) {
        var doc = me.export(Principal.of(ctx)).onSuccess(d -> ctx.response()
                .putHeader("Content-Disposition", "attachment; filename=\"tradersflow-export.json\""));
        Api.reply(ctx, doc, 200, d -> d);
    }

    private static int limit(RoutingContext ctx) {
        String value = ctx.request().getParam("limit");
        try {
            int limit = value == null ? 20 : Integer.parseInt(value);
            if (limit >= 1 && limit <= 100) {
                return limit;
            }
        } catch (NumberFormatException ignored) {
            // answered below
        }
        throw AppError.of(ErrorCode.MALFORMED_REQUEST, "limit must be a whole number from 1 to 100");
    }

    private static long cursor(String cursor) {
        if (cursor == null || cursor.isEmpty()) {
            return Long.MAX_VALUE;
        }
        try {
            return Long.parseLong(new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8));
        } catch (RuntimeException e) {
            throw AppError.of(ErrorCode.MALFORMED_REQUEST, "cursor is not valid");
        }
    }
}
