package uk.co.tradersflow.data.jobs;

import static io.vertx.core.http.HttpMethod.DELETE;
import static io.vertx.core.http.HttpMethod.GET;
import static io.vertx.core.http.HttpMethod.PATCH;
import static io.vertx.core.http.HttpMethod.POST;

import io.vertx.core.Future;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.List;
import java.util.Optional;
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

/** {@code /api/v1/jobs}: the work a tradesperson quotes, schedules and does for customers. */
public final class JobRoutes implements RouteModule {
  private final Db db;
  private final AuditLog audit;
  private final JobRepository jobs = new JobRepository();
  private Api api;

  public JobRoutes(Db db, AuditLog audit) {
    this.db = db;
    this.audit = audit;
  }

  @Override
  public void mount(Router router, Api api) {
    this.api = api;
    api.authenticated(router, GET, "/api/v1/jobs").handler(this::list);
    api.authenticated(router, POST, "/api/v1/jobs").handler(this::create);
    api.authenticated(router, GET, "/api/v1/jobs/:id").handler(this::read);
    api.authenticated(router, PATCH, "/api/v1/jobs/:id").handler(this::update);
    api.authenticated(router, DELETE, "/api/v1/jobs/:id").handler(this::delete);
  }

  private void list(RoutingContext ctx) {
    PageRequest page = PageRequest.of(ctx);
    String status = QueryParams.status(ctx, JobStatus.class).orElse(null);
    Api.reply(ctx, jobs.list(db, Principal.of(ctx).accountId(), page, status), 200,
        rows -> page.reply(rows, Job::toJson, Job::position));
  }

  private void read(RoutingContext ctx) {
    UUID id = Api.pathId(ctx, "id");
    Api.reply(ctx, db.readInAccount(Principal.of(ctx).accountId(), tx -> jobs.find(tx, id)), 200, Job::toJson);
  }

  private void create(RoutingContext ctx) {
    JobInput input = JobInput.forCreate(JsonInput.of(ctx));
    Future<Job> created = db.inAccount(Principal.of(ctx).accountId(), tx -> requireCustomer(tx, input.customerId())
        .compose(v -> jobs.insert(tx, input))
        .compose(job -> audit.append(tx, entry(ctx, "job.created", job.id())).map(job)));
    Api.reply(ctx, created, 201, Job::toJson);
  }

  private void update(RoutingContext ctx) {
    UUID id = Api.pathId(ctx, "id");
    JobInput input = JobInput.forPatch(JsonInput.of(ctx));
    Future<Job> updated = db.inAccount(Principal.of(ctx).accountId(), tx -> jobs.find(tx, id)
        .compose(existing -> input.hasCustomerId() ? requireCustomer(tx, input.customerId()) : Future.succeededFuture())
        .compose(v -> jobs.update(tx, id, input))
        .compose(job -> audit.append(tx, entry(ctx, "job.updated", job.id())).map(job)));
    Api.reply(ctx, updated, 200, Job::toJson);
  }

  private void delete(RoutingContext ctx) {
    UUID id = Api.pathId(ctx, "id");
    Future<Void> deleted = db.inAccount(Principal.of(ctx).accountId(), tx -> jobs.find(tx, id)
        .compose(job -> jobs.invoiced(tx, id))
        .compose(invoiced -> invoiced
            ? Future.failedFuture(AppError.of(ErrorCode.CONFLICT, "This job has invoices; void them instead of deleting the job"))
            : jobs.delete(tx, id))
        .compose(ok -> audit.append(tx, entry(ctx, "job.deleted", id))));
    Api.noContent(ctx, deleted);
  }

  /** A job may name only one of the caller's own customers; anything else is a field error, not a leak. */
  private Future<Void> requireCustomer(io.vertx.sqlclient.SqlConnection tx, Optional<UUID> customerId) {
    if (customerId.isEmpty()) {
      return Future.succeededFuture();
    }
    return jobs.customerExists(tx, customerId.get()).compose(found -> found ? Future.<Void>succeededFuture()
        : Future.failedFuture(AppError.validation(List.of(new FieldError("customerId", "no such customer")))));
  }

  private AuditEntry entry(RoutingContext ctx, String action, UUID jobId) {
    return AuditEntry.byUser(Principal.of(ctx), api.clients().of(ctx), action).target("job", jobId);
  }
}
