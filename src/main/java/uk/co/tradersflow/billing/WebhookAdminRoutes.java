package uk.co.tradersflow.billing;

import static io.vertx.core.http.HttpMethod.GET;
import static io.vertx.core.http.HttpMethod.POST;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.Optional;
import java.util.Set;
import uk.co.tradersflow.platform.security.ActorType;
import uk.co.tradersflow.audit.AuditEntry;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.platform.security.Principal;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.http.Api;
import uk.co.tradersflow.platform.http.PageRequest;
import uk.co.tradersflow.platform.http.RouteModule;

/**
 * Owners' view of the Stripe event log: {@code GET /admin/api/webhooks?status=failed} and
 * {@code POST /admin/api/webhooks/{eventId}/replay} (audited; the event is handled again at once).
 */
public final class WebhookAdminRoutes implements RouteModule {
  private static final Set<String> STATUSES = Set.of("pending", "processing", "processed", "ignored", "failed");
  private final Db db;
  private final StripeEventStore events;
  private final AuditLog audit;
  private final ReplayTrigger trigger;
  private Api api;

  /** Hands a replayed event to the webhook verticle's handling (via the bus). */
  @FunctionalInterface
  public interface ReplayTrigger {
    void replayed(String eventId);
  }

  public WebhookAdminRoutes(Db db, StripeEventStore events, AuditLog audit, ReplayTrigger trigger) {
    this.db = db;
    this.events = events;
    this.audit = audit;
    this.trigger = trigger;
  }

  @Override
  public void mount(Router router, Api api) {
    this.api = api;
    api.owner(router, GET, "/admin/api/webhooks").handler(this::list);
    api.owner(router, POST, "/admin/api/webhooks/:eventId/replay").handler(this::replay);
  }

  private void list(RoutingContext ctx) {
    String status = Optional.ofNullable(ctx.request().getParam("status")).orElse("failed");
    if (!STATUSES.contains(status)) {
      throw AppError.of(ErrorCode.MALFORMED_REQUEST, "status must be one of " + STATUSES);
    }
    int limit = limit(ctx.request().getParam("limit"));
    OffsetDateTime before = OffsetDateTime.of(9999, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC);
    String beforeId = "\uffff";
    String cursor = ctx.request().getParam("cursor");
    if (cursor != null && !cursor.isEmpty()) {
      try {
        String[] parts = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8).split("\\|", 2);
        before = OffsetDateTime.parse(parts[0]);
        beforeId = parts[1];
      } catch (RuntimeException e) {
        throw AppError.of(ErrorCode.MALFORMED_REQUEST, "cursor is not valid");
      }
    }
    Api.reply(ctx, events.list(status, before, beforeId, limit + 1), 200, rows -> {
      JsonArray items = new JsonArray(rows.getList().subList(0, Math.min(limit, rows.size())));
      String next = null;
      if (rows.size() > limit) {
        JsonObject last = items.getJsonObject(limit - 1);
        String raw = OffsetDateTime.ofInstant(Instant.parse(last.getString("receivedAt")), ZoneOffset.UTC) + "|" + last.getString("id");
        next = Base64.getUrlEncoder().withoutPadding().encodeToString(raw.getBytes(StandardCharsets.UTF_8));
      }
      return new JsonObject().put("items", items).put("nextCursor", next);
    });
  }

  /** {@code ?limit=} as the contract has it (1–100, default 20); the cursor here is an event position, not PageRequest's. */
  private static int limit(String param) {
    if (param == null) {
      return PageRequest.DEFAULT_LIMIT;
    }
    try {
      int n = Integer.parseInt(param);
      if (n >= 1 && n <= PageRequest.MAX_LIMIT) {
        return n;
      }
    } catch (NumberFormatException e) {
      // falls through to the same answer as an out-of-range number
    }
    throw AppError.of(ErrorCode.MALFORMED_REQUEST, "limit must be a whole number from 1 to " + PageRequest.MAX_LIMIT);
  }

  private void replay(RoutingContext ctx) {
    String id = ctx.pathParam("eventId");
    if (id == null || !id.matches("^evt_[A-Za-z0-9_]{1,200}$")) {
      throw AppError.notFound();
    }
    Principal owner = Principal.of(ctx);
    Future<Boolean> done = db.asWorker(tx -> events.replay(tx, id).compose(result -> {
      if (result.isEmpty()) {
        return Future.failedFuture(AppError.notFound());
      }
      if (!result.get()) {
        return Future.failedFuture(AppError.of(ErrorCode.CONFLICT, "Only failed or ignored events can be replayed"));
      }
      return audit.append(tx, AuditEntry.by(ActorType.OWNER, Optional.of(owner.userId()), Optional.empty(),
              "stripe.webhook_replayed").target("stripe_event", id).from(api.clients().of(ctx)))
          .map(true);
    })).andThen(ar -> {
      if (ar.succeeded()) {
        trigger.replayed(id);
      }
    });
    Api.reply(ctx, done, 200, ok -> new JsonObject().put("id", id).put("status", "pending"));
  }
}
