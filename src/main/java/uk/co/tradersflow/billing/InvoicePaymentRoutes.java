package uk.co.tradersflow.billing;

import static io.vertx.core.http.HttpMethod.POST;

import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import uk.co.tradersflow.platform.http.Api;
import uk.co.tradersflow.platform.http.ClientInfo;
import uk.co.tradersflow.platform.http.RouteModule;
import uk.co.tradersflow.platform.security.Principal;

/** {@code POST /api/v1/invoices/{id}/payment-link} and {@code /send}, over {@link InvoicePaymentService}. */
public final class InvoicePaymentRoutes implements RouteModule {
    private final InvoicePaymentService payments;
    private final ClientInfo clients;

    public InvoicePaymentRoutes(InvoicePaymentService payments, ClientInfo clients) {
        this.clients = clients;
        this.payments = payments;
    }

    @Override
    public void mount(Router router, Api api) {
        api.authenticated(router, POST, "/api/v1/invoices/:id/payment-link").handler(this::paymentLink);
        api.authenticated(router, POST, "/api/v1/invoices/:id/send").handler(this::send);
    }

    private void paymentLink(RoutingContext ctx) {
        Api.reply(ctx, payments.paymentLink(request(ctx)), 200, BillingRoutes::url);
    }

    private void send(RoutingContext ctx) {
        Api.reply(ctx, payments.send(request(ctx)), 202, sent -> new JsonObject()
                .put("id", sent.id().toString())
                .put("status", "sent")
                .put("queued", sent.queued()));
    }

    private InvoicePaymentService.InvoiceRequest request(RoutingContext ctx) {
        return new InvoicePaymentService.InvoiceRequest(Principal.of(ctx), clients.of(ctx), Api.pathId(ctx, "id"));
    }
}
