package uk.co.tradersflow.data.invoices;

import static io.vertx.core.http.HttpMethod.GET;
import static io.vertx.core.http.HttpMethod.PATCH;
import static io.vertx.core.http.HttpMethod.POST;

import io.vertx.core.Future;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.SqlConnection;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import uk.co.tradersflow.audit.AuditEntry;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.platform.security.Principal;
import uk.co.tradersflow.data.common.QueryParams;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.error.FieldError;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.http.Api;
import uk.co.tradersflow.platform.http.JsonInput;
import uk.co.tradersflow.platform.http.PageRequest;
import uk.co.tradersflow.platform.http.RouteModule;

/**
 * {@code /api/v1/invoices}: drafts with lines, numbered per account, totals computed here. Only a
 * draft's content may change; the client may void a draft or a sent invoice. Sending and
 * payment (which set {@code sent} and {@code paid}) belong to billing.
 */
public final class InvoiceRoutes implements RouteModule {
  private final Db db;
  private final AuditLog audit;
  private final InvoiceRepository invoices = new InvoiceRepository();
  private Api api;

  public InvoiceRoutes(Db db, AuditLog audit) {
    this.db = db;
    this.audit = audit;
  }

  @Override
  public void mount(Router router, Api api) {
    this.api = api;
    api.authenticated(router, GET, "/api/v1/invoices").handler(this::list);
    api.authenticated(router, POST, "/api/v1/invoices").handler(this::create);
    api.authenticated(router, GET, "/api/v1/invoices/:id").handler(this::read);
    api.authenticated(router, PATCH, "/api/v1/invoices/:id").handler(this::update);
  }

  private void list(RoutingContext ctx) {
    PageRequest page = PageRequest.of(ctx);
    String status = QueryParams.status(ctx, InvoiceStatus.class).orElse(null);
    Api.replyRendered(ctx, invoices.list(db, Principal.of(ctx).accountId(), page, status), 200,
        rows -> page.replyRendered(rows, Invoice::json, Invoice::position));
  }

  private void read(RoutingContext ctx) {
    UUID id = Api.pathId(ctx, "id");
    Api.replyRendered(ctx, db.readInAccount(Principal.of(ctx).accountId(), tx -> invoices.find(tx, id)), 200, Invoice::json);
  }

  private void create(RoutingContext ctx) {
    InvoiceInput input = InvoiceInput.forCreate(JsonInput.of(ctx));
    Future<Invoice> created = db.inAccount(Principal.of(ctx).accountId(), tx -> requireReferences(tx, input)
        .compose(v -> invoices.insert(tx, input))
        .compose(id -> invoices.find(tx, id))
        .compose(invoice -> audit.append(tx, entry(ctx, "invoice.created", invoice)).map(invoice)));
    Api.replyRendered(ctx, created, 201, Invoice::json);
  }

  private void update(RoutingContext ctx) {
    UUID id = Api.pathId(ctx, "id");
    InvoiceInput input = InvoiceInput.forPatch(JsonInput.of(ctx));
    // A body naming no field it may change (only unknown ones, say) changes nothing: no new
    // version, which would retire the payment link the customer was sent, and no audit entry.
    boolean changes = input.changesContent() || input.hasStatus();
    Future<Invoice> updated = db.inAccount(Principal.of(ctx).accountId(), tx -> invoices.lock(tx, id)
        .compose(v -> invoices.find(tx, id))
        .compose(existing -> !changes ? Future.succeededFuture(existing) : checkTransition(existing, input)
            .compose(v -> requireReferences(tx, input))
            .compose(v -> invoices.update(tx, id, input))
            .compose(v -> invoices.find(tx, id))
            .compose(invoice -> audit.append(tx, entry(ctx, input.hasStatus() ? "invoice.voided" : "invoice.updated", invoice))
                .map(invoice))));
    Api.replyRendered(ctx, updated, 200, Invoice::json);
  }

  private static Future<Void> checkTransition(Invoice existing, InvoiceInput input) {
    if (input.changesContent() && !existing.isDraft()) {
      return Future.failedFuture(AppError.of(ErrorCode.CONFLICT,
          "Only a draft invoice can be changed; this one is " + existing.status()));
    }
    if (input.hasStatus() && !(existing.isDraft() || "sent".equals(existing.status()))) {
      return Future.failedFuture(AppError.of(ErrorCode.CONFLICT, "A " + existing.status() + " invoice cannot be voided"));
    }
    return Future.succeededFuture();
  }

  /** The customer and job must be the caller's own: under RLS anything else simply does not exist. */
  private Future<Void> requireReferences(SqlConnection tx, InvoiceInput input) {
    List<FieldError> errors = new ArrayList<>();
    Future<?> customer = input.customerId().isEmpty() ? Future.succeededFuture()
        : invoices.exists(tx, "customers", input.customerId().get())
            .onSuccess(found -> { if (!found) errors.add(new FieldError("customerId", "no such customer")); });
    Future<?> job = input.jobId().isEmpty() ? Future.succeededFuture()
        : invoices.exists(tx, "jobs", input.jobId().get())
            .onSuccess(found -> { if (!found) errors.add(new FieldError("jobId", "no such job")); });
    return Future.all(customer, job).compose(v -> errors.isEmpty()
        ? Future.<Void>succeededFuture() : Future.failedFuture(AppError.validation(errors)));
  }

  private AuditEntry entry(RoutingContext ctx, String action, Invoice invoice) {
    return AuditEntry.byUser(Principal.of(ctx), api.clients().of(ctx), action).target("invoice", invoice.id())
        .detail("number", Invoice.formatNumber(invoice.number())).detail("totalPence", invoice.totalPence());
  }
}
