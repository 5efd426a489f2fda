package uk.co.tradersflow.email;

import static io.vertx.core.http.HttpMethod.GET;
import static io.vertx.core.http.HttpMethod.POST;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import uk.co.tradersflow.platform.security.ActorType;
import uk.co.tradersflow.audit.AuditEntry;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.platform.security.Principal;
import uk.co.tradersflow.platform.db.Rows;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.http.Api;
import uk.co.tradersflow.platform.http.PageRequest;
import uk.co.tradersflow.platform.http.RouteModule;

/**
 * Owners' view of email: the log with each message's downstream events, delivery health, and
 * {@code POST /admin/api/emails/{id}/requeue}, which queues a {@code failed} message again with
 * its attempts reset (audited; the dispatcher is woken at once).
 */
public final class EmailAdminRoutes implements RouteModule {
  private static final Set<String> STATUSES = Set.of("queued", "sending", "sent", "failed", "suppressed");
  private static final String LIST = """
      SELECT o.id, o.account_id, o.template, o.recipient, o.status, o.attempts, o.last_error, o.created_at, o.sent_at,
             coalesce((SELECT json_agg(json_build_object('type', e.type, 'occurredAt', e.occurred_at) ORDER BY e.occurred_at)
                         FROM email_events e WHERE e.message_id = o.id), '[]'::json) AS events
        FROM email_outbox o
       WHERE (o.created_at, o.id) < ($1, $2)
         AND ($4::text IS NULL OR o.recipient = $4)
         AND ($5::text IS NULL OR o.status = $5)
       ORDER BY o.created_at DESC, o.id DESC
       LIMIT $3""";

  private final Db db;
  private final EmailHealth health;
  private final OutboxStore outbox;
  private final EmailOutbox dispatch;
  private final AuditLog audit;
  private Api api;

  public EmailAdminRoutes(Db db, EmailHealth health, EmailOutbox dispatch, AuditLog audit) {
    this.db = db;
    this.health = health;
    this.outbox = new OutboxStore(db);
    this.dispatch = dispatch;
    this.audit = audit;
  }

  @Override
  public void mount(Router router, Api api) {
    api.owner(router, GET, "/admin/api/emails").handler(this::list);
    api.owner(router, GET, "/admin/api/email/health").handler(ctx -> Api.reply(ctx, health.stats(), 200, EmailHealth.Stats::toJson));
    api.owner(router, POST, "/admin/api/emails/:id/requeue").handler(this::requeue);
    this.api = api;
  }

  private void requeue(RoutingContext ctx) {
    UUID id;
    try {
      id = UUID.fromString(ctx.pathParam("id"));
    } catch (IllegalArgumentException e) {
      throw AppError.notFound();
    }
    Principal owner = Principal.of(ctx);
    Future<UUID> done = db.asWorker(tx -> outbox.requeue(tx, id).compose(result -> switch (result.outcome()) {
      case NOT_FOUND -> Future.failedFuture(AppError.notFound());
      case NOT_FAILED -> Future.failedFuture(AppError.of(ErrorCode.CONFLICT, "Only a failed email can be requeued"));
      case QUEUED -> audit.append(tx, AuditEntry.by(ActorType.OWNER, Optional.of(owner.userId()), result.accountId(),
              "email.requeued").target("email", id).from(api.clients().of(ctx))).map(id);
    }).compose(queued -> {
      dispatch.wakeAfterCommit(tx);
      return Future.succeededFuture(queued);
    }));
    Api.reply(ctx, done, 202, queued -> new JsonObject().put("id", queued.toString()).put("status", "queued"));
  }

  private void list(RoutingContext ctx) {
    PageRequest page = PageRequest.of(ctx);
    String recipient = ctx.request().getParam("recipient");
    String status = ctx.request().getParam("status");
    if (status != null && !status.isEmpty() && !STATUSES.contains(status)) {
      throw AppError.of(ErrorCode.MALFORMED_REQUEST, "status must be one of " + String.join(", ", STATUSES));
    }
    Tuple args = Tuple.of(Rows.utc(page.afterCreatedAt()), page.afterId(), page.fetchSize(),
        recipient == null || recipient.isBlank() ? null : recipient.trim().toLowerCase(Locale.ROOT),
        status == null || status.isEmpty() ? null : status);
    // The log spans every account: read as the narrowly granted worker role, behind the owner check.
    Api.reply(ctx, db.asWorker(tx -> tx.preparedQuery(LIST).execute(args)).map(rows -> Rows.all(rows, EmailAdminRoutes::entry)),
        200, entries -> page.reply(entries, e -> e, e -> new PageRequest.Position(Instant.parse(e.getString("createdAt")),
            java.util.UUID.fromString(e.getString("id")))));
  }

  private static JsonObject entry(Row r) {
    Object events = r.getValue("events");
    return new JsonObject()
        .put("id", r.getUUID("id").toString())
        .put("accountId", r.getUUID("account_id") == null ? null : r.getUUID("account_id").toString())
        .put("template", r.getString("template"))
        .put("recipient", r.getString("recipient"))
        .put("status", r.getString("status"))
        .put("attempts", r.getInteger("attempts"))
        .put("lastError", r.getString("last_error"))
        .put("createdAt", Rows.instant(r, "created_at").toString())
        .put("sentAt", Rows.optionalInstant(r, "sent_at").map(Instant::toString).orElse(null))
        .put("events", events instanceof JsonArray array ? array : new JsonArray());
  }
}
