package uk.co.tradersflow.data.invoices;

import static io.vertx.core.http.HttpMethod.GET;
import static io.vertx.core.http.HttpMethod.PATCH;
import static io.vertx.core.http.HttpMethod.POST;

import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.UUID;
import uk.co.tradersflow.data.common.QueryParams;
import uk.co.tradersflow.platform.http.Api;
import uk.co.tradersflow.platform.http.ClientInfo;
import uk.co.tradersflow.platform.http.JsonInput;
import uk.co.tradersflow.platform.http.PageRequest;
import uk.co.tradersflow.platform.http.RouteModule;
import uk.co.tradersflow.platform.security.Principal;

/**
 * {@code /api/v1/invoices}: parses, asks {@link InvoiceService}, and writes out the stored reply
 * as it is. Sending and payment belong to billing, which also goes through the service.
 */
public final class InvoiceRoutes implements RouteModule {
    private final InvoiceService invoices;
    private final ClientInfo clients;

    public InvoiceRoutes(InvoiceService invoices, ClientInfo clients) {
        this.clients = clients;
        this.invoices = invoices;
    }

    @Override
    public void mount(Router router, Api api) {
        api.authenticated(router, GET, "/api/v1/invoices").handler(this::list);
        api.authenticated(router, POST, "/api/v1/invoices").handler(this::create);
        api.authenticated(router, GET, "/api/v1/invoices/:id").handler(this::read);
        api.authenticated(router, PATCH, "/api/v1/invoices/:id").handler(this::update);
    }

    private void list(RoutingContext ctx) {
        PageRequest page = PageRequest.of(ctx);
        String status = QueryParams.status(ctx, InvoiceStatus.class).orElse(null);
        Api.replyRendered(
                ctx,
                invoices.list(Principal.of(ctx).accountId(), page, status),
                200,
                rows -> page.replyRendered(rows, Invoice::json, Invoice::position));
    }

    private void read(RoutingContext ctx) {
        Api.replyRendered(ctx, invoices.find(Principal.of(ctx).accountId(), Api.pathId(ctx, "id")), 200, Invoice::json);
    }

    private void create(RoutingContext ctx) {
        InvoiceInput input = InvoiceInput.forCreate(JsonInput.of(ctx));
        Api.replyRendered(
                ctx, invoices.create(new InvoiceService.CreateInvoice(caller(ctx), input)), 201, Invoice::json);
    }

    private void update(RoutingContext ctx) {
        UUID id = Api.pathId(ctx, "id");
        InvoiceInput input = InvoiceInput.forPatch(JsonInput.of(ctx));
        Api.replyRendered(
                ctx, invoices.update(new InvoiceService.UpdateInvoice(caller(ctx), id, input)), 200, Invoice::json);
    }

    private InvoiceService.Caller caller(RoutingContext ctx) {
        return new InvoiceService.Caller(Principal.of(ctx), clients.of(ctx));
    }
}
