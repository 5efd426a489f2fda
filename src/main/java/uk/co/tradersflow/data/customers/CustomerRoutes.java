package uk.co.tradersflow.data.customers;

import static io.vertx.core.http.HttpMethod.DELETE;
import static io.vertx.core.http.HttpMethod.GET;
import static io.vertx.core.http.HttpMethod.PATCH;
import static io.vertx.core.http.HttpMethod.POST;

import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.UUID;
import uk.co.tradersflow.platform.http.Api;
import uk.co.tradersflow.platform.http.ClientInfo;
import uk.co.tradersflow.platform.http.JsonInput;
import uk.co.tradersflow.platform.http.PageRequest;
import uk.co.tradersflow.platform.http.RouteModule;
import uk.co.tradersflow.platform.security.Principal;

/** {@code /api/v1/customers}: parses each request, calls {@link CustomerService}, replies. */
public final class CustomerRoutes implements RouteModule {
    private final CustomerService service;
    private final ClientInfo clients;

    public CustomerRoutes(CustomerService service, ClientInfo clients) {
        this.clients = clients;
        this.service = service;
    }

    @Override
    public void mount(Router router, Api api) {
        api.authenticated(router, GET, "/api/v1/customers").handler(this::list);
        api.authenticated(router, POST, "/api/v1/customers").handler(this::create);
        api.authenticated(router, GET, "/api/v1/customers/:id").handler(this::read);
        api.authenticated(router, PATCH, "/api/v1/customers/:id").handler(this::update);
        api.authenticated(router, DELETE, "/api/v1/customers/:id").handler(this::delete);
    }

    private void list(RoutingContext ctx) {
        PageRequest page = PageRequest.of(ctx);
        Api.reply(
                ctx,
                service.list(Principal.of(ctx).accountId(), page),
                200,
                rows -> page.reply(rows, Customer::toJson, Customer::position));
    }

    private void read(RoutingContext ctx) {
        UUID id = Api.pathId(ctx, "id");
        Api.reply(ctx, service.find(Principal.of(ctx).accountId(), id), 200, Customer::toJson);
    }

    private void create(RoutingContext ctx) {
        CustomerInput input = CustomerInput.forCreate(JsonInput.of(ctx));
        Api.reply(ctx, service.create(Principal.of(ctx), clients.of(ctx), input), 201, Customer::toJson);
    }

    private void update(RoutingContext ctx) {
        UUID id = Api.pathId(ctx, "id");
        CustomerInput change = CustomerInput.forPatch(JsonInput.of(ctx));
        Api.reply(ctx, service.update(Principal.of(ctx), clients.of(ctx), id, change), 200, Customer::toJson);
    }

    private void delete(RoutingContext ctx) {
        UUID id = Api.pathId(ctx, "id");
        Api.noContent(ctx, service.delete(Principal.of(ctx), clients.of(ctx), id));
    }
}
