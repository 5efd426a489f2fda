package uk.co.tradersflow.data.customers;

import static io.vertx.core.http.HttpMethod.DELETE;
import static io.vertx.core.http.HttpMethod.GET;
import static io.vertx.core.http.HttpMethod.PATCH;
import static io.vertx.core.http.HttpMethod.POST;

import io.vertx.core.Future;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.UUID;
import uk.co.tradersflow.audit.AuditEntry;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.platform.security.Principal;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.http.Api;
import uk.co.tradersflow.platform.http.JsonInput;
import uk.co.tradersflow.platform.http.PageRequest;
import uk.co.tradersflow.platform.http.RouteModule;

/** {@code /api/v1/customers}: list, create, read, change and delete a tradesperson's customers. */
public final class CustomerRoutes implements RouteModule {
  private final Db db;
  private final AuditLog audit;
  private final CustomerRepository customers = new CustomerRepository();
  private Api api;

  public CustomerRoutes(Db db, AuditLog audit) {
    this.db = db;
    this.audit = audit;
  }

  @Override
  public void mount(Router router, Api api) {
    this.api = api;
    api.authenticated(router, GET, "/api/v1/customers").handler(this::list);
    api.authenticated(router, POST, "/api/v1/customers").handler(this::create);
    api.authenticated(router, GET, "/api/v1/customers/:id").handler(this::read);
    api.authenticated(router, PATCH, "/api/v1/customers/:id").handler(this::update);
    api.authenticated(router, DELETE, "/api/v1/customers/:id").handler(this::delete);
  }

  private void list(RoutingContext ctx) {
    PageRequest page = PageRequest.of(ctx);
    Principal me = Principal.of(ctx);
    Api.reply(ctx, customers.list(db, me.accountId(), page), 200,
        rows -> page.reply(rows, Customer::toJson, Customer::position));
  }

  private void read(RoutingContext ctx) {
    UUID id = Api.pathId(ctx, "id");
    Principal me = Principal.of(ctx);
    Api.reply(ctx, db.readInAccount(me.accountId(), tx -> customers.find(tx, id)), 200, Customer::toJson);
  }

  private void create(RoutingContext ctx) {
    CustomerInput input = CustomerInput.forCreate(JsonInput.of(ctx));
    Principal me = Principal.of(ctx);
    Future<Customer> created = db.inAccount(me.accountId(), tx -> customers.insert(tx, input)
        .compose(c -> audit.append(tx, entry(ctx, "customer.created", c.id())).map(c)));
    Api.reply(ctx, created, 201, Customer::toJson);
  }

  private void update(RoutingContext ctx) {
    UUID id = Api.pathId(ctx, "id");
    CustomerInput input = CustomerInput.forPatch(JsonInput.of(ctx));
    Principal me = Principal.of(ctx);
    Future<Customer> updated = db.inAccount(me.accountId(), tx -> customers.update(tx, id, input)
        .compose(c -> audit.append(tx, entry(ctx, "customer.updated", c.id())).map(c)));
    Api.reply(ctx, updated, 200, Customer::toJson);
  }

  private void delete(RoutingContext ctx) {
    UUID id = Api.pathId(ctx, "id");
    Principal me = Principal.of(ctx);
    Future<Void> deleted = db.inAccount(me.accountId(), tx -> customers.find(tx, id)
        .compose(c -> customers.inUse(tx, id))
        .compose(inUse -> inUse
            ? Future.failedFuture(AppError.of(ErrorCode.CONFLICT, "This customer has jobs or invoices; remove those first"))
            : customers.delete(tx, id))
        .compose(ok -> audit.append(tx, entry(ctx, "customer.deleted", id))));
    Api.noContent(ctx, deleted);
  }

  private AuditEntry entry(RoutingContext ctx, String action, UUID customerId) {
    return AuditEntry.byUser(Principal.of(ctx), api.clients().of(ctx), action).target("customer", customerId);
  }
}
