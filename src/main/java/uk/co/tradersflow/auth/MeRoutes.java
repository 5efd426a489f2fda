package uk.co.tradersflow.auth;

import static io.vertx.core.http.HttpMethod.DELETE;
import static io.vertx.core.http.HttpMethod.GET;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.UUID;
import uk.co.tradersflow.audit.AuditEntry;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.platform.db.Rows;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.platform.bus.SessionRevoked;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.http.Api;
import uk.co.tradersflow.platform.http.RouteModule;
import uk.co.tradersflow.platform.security.Principal;

/** {@code /api/v1/me}: who am I, my devices (sessions) and my account's security activity. */
public final class MeRoutes implements RouteModule {
  private static final String ME = """
      SELECT u.id AS user_id, u.email, u.email_verified_at IS NOT NULL AS email_verified,
             a.id AS account_id, a.business_name, a.status,
             coalesce(b.subscription_status, 'none') AS subscription_status, b.trial_end, b.current_period_end
        FROM users u JOIN accounts a ON a.id = u.account_id
        LEFT JOIN billing_accounts b ON b.account_id = a.id
       WHERE u.id = $1""";
  private static final String SESSIONS = """
      SELECT id, created_at, last_used_at, user_agent, host(ip) AS ip FROM sessions
       WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now()
       ORDER BY last_used_at DESC""";
  private static final String ACTIVITY = """
      SELECT id, action, occurred_at, host(ip) AS ip, user_agent, details FROM audit_log
       WHERE id < $1 ORDER BY id DESC LIMIT $2""";

  private final Db db;
  private final AuditLog audit;
  private final SessionRevocations revocations;
  private Api api;

  public MeRoutes(Db db, AuditLog audit, SessionRevocations revocations) {
    this.db = db;
    this.audit = audit;
    this.revocations = revocations;
  }

  @Override
  public void mount(Router router, Api api) {
    this.api = api;
    api.authenticated(router, GET, "/api/v1/me").handler(this::me);
    api.authenticated(router, GET, "/api/v1/me/sessions").handler(this::sessions);
    api.authenticated(router, DELETE, "/api/v1/me/sessions/:id").handler(this::endSession);
    api.authenticated(router, GET, "/api/v1/me/activity").handler(this::activity);
  }

  private void me(RoutingContext ctx) {
    Principal me = Principal.of(ctx);
    Api.reply(ctx, db.readInAccount(me.accountId(), tx -> tx.preparedQuery(ME).execute(Tuple.of(me.userId()))), 200, rows -> {
      Row r = Rows.one(rows, x -> x);
      return new JsonObject()
          .put("user", new JsonObject().put("id", r.getUUID("user_id").toString()).put("email", r.getString("email"))
              .put("emailVerified", r.getBoolean("email_verified")))
          .put("account", new JsonObject().put("id", r.getUUID("account_id").toString())
              .put("businessName", r.getString("business_name")).put("status", r.getString("status")))
          .put("subscription", new JsonObject().put("status", r.getString("subscription_status"))
              .put("trialEnd", Rows.optionalInstant(r, "trial_end").map(Object::toString).orElse(null))
              .put("currentPeriodEnd", Rows.optionalInstant(r, "current_period_end").map(Object::toString).orElse(null)));
    });
  }

  private void sessions(RoutingContext ctx) {
    Principal me = Principal.of(ctx);
    Api.reply(ctx, db.readInAccount(me.accountId(), tx -> tx.preparedQuery(SESSIONS).execute(Tuple.of(me.userId()))), 200, rows -> {
      JsonArray items = new JsonArray();
      rows.forEach(r -> items.add(new JsonObject()
          .put("id", r.getUUID("id").toString())
          .put("createdAt", Rows.instant(r, "created_at").toString())
          .put("lastUsedAt", Rows.instant(r, "last_used_at").toString())
          .put("userAgent", r.getString("user_agent"))
          .put("ip", r.getString("ip"))
          .put("current", r.getUUID("id").equals(me.sessionId()))));
      return new JsonObject().put("items", items).putNull("nextCursor");
    });
  }

  private void endSession(RoutingContext ctx) {
    Principal me = Principal.of(ctx);
    UUID id = Api.pathId(ctx, "id");
    Future<Void> done = db.inAccount(me.accountId(), tx -> tx.preparedQuery(
                "UPDATE sessions SET revoked_at = now(), revoked_reason = 'ended_by_user' WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL")
            .execute(Tuple.of(id, me.userId()))
            .compose(rows -> rows.rowCount() == 1 ? audit.append(tx, AuditEntry.byUser(me, api.clients().of(ctx), "session.ended")
                .detail("sessionId", id.toString())) : Future.failedFuture(AppError.notFound())))
        .compose(v -> revocations.publish(SessionRevoked.session(id)));
    Api.noContent(ctx, done);
  }

  private void activity(RoutingContext ctx) {
    Principal me = Principal.of(ctx);
    int limit = limit(ctx);
    long before = cursor(ctx.request().getParam("cursor"));
    Api.reply(ctx, db.readInAccount(me.accountId(), tx -> tx.preparedQuery(ACTIVITY).execute(Tuple.of(before, limit + 1))), 200, rows -> {
      JsonArray items = new JsonArray();
      long last = 0;
      int n = 0;
      for (Row r : rows) {
        if (n++ == limit) {
          break;
        }
        last = r.getLong("id");
        Object details = r.getValue("details");
        items.add(new JsonObject().put("action", r.getString("action"))
            .put("occurredAt", Rows.instant(r, "occurred_at").toString())
            .put("ip", r.getString("ip")).put("userAgent", r.getString("user_agent"))
            .put("details", details instanceof JsonObject json ? json : new JsonObject()));
      }
      String next = rows.size() > limit
          ? Base64.getUrlEncoder().withoutPadding().encodeToString(Long.toString(last).getBytes(StandardCharsets.UTF_8)) : null;
      return new JsonObject().put("items", items).put("nextCursor", next);
    });
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
