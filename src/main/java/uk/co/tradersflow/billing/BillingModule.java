package uk.co.tradersflow.billing;

import java.time.Duration;
import java.util.List;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.data.invoices.InvoiceService;
import uk.co.tradersflow.email.EmailOutbox;
import uk.co.tradersflow.platform.module.Module;
import uk.co.tradersflow.platform.module.Shared;

/**
 * Billing: the Stripe gateway (retention uses it too), subscriptions and Connect, invoice
 * payment links, the Stripe webhook with its handling verticles, and the owners' event log.
 */
public record BillingModule(StripeGateway stripe, Module module) {
    /** Two handling instances, each with its two lanes (StripeWebhookVerticle), drain the event log side by side. */
    private static final int WEBHOOK_HANDLERS = 2;

    public static BillingModule create(Shared shared, AuditLog audit, EmailOutbox outbox, InvoiceService invoices) {
        var config = shared.config().billing();
        var db = shared.db();
        StripeGateway stripe = new StripeGateway(shared.vertx(), config);
        StripeEventStore events = new StripeEventStore(db, shared.vertx().eventBus());
        // The billing page is the web app's: emails link there, not to the API's host.
        StripeEventHandler handler = new StripeEventHandler(
                db,
                stripe,
                events,
                audit,
                outbox,
                invoices,
                config.links().appLink("/billing"),
                StripeWebhookVerticle.MAX_STRIPE_HANDLING * WEBHOOK_HANDLERS);
        // Deliveries are verified and stored on the HTTPS loop that received them (StripeWebhookService).
        return new BillingModule(
                stripe,
                new Module(
                        List.of(
                                new BillingRoutes(
                                        new BillingService(shared.vertx(), db, stripe, audit, config),
                                        shared.clients()),
                                new InvoicePaymentRoutes(
                                        new InvoicePaymentService(db, stripe, audit, outbox, invoices),
                                        shared.clients()),
                                new StripeWebhookRoutes(new StripeWebhookService(
                                        config.stripeWebhookSecrets(), shared.clock(), events, shared.meters())),
                                new WebhookAdminRoutes(new WebhookAdminService(db, events, audit), shared.clients())),
                        List.of(
                                new Module.Deployment(
                                        () -> new StripeWebhookVerticle(events, handler, shared.meters()),
                                        WEBHOOK_HANDLERS),
                                Module.Deployment.single(
                                        new PaymentLinkRetirementVerticle(db, stripe, Duration.ofSeconds(30)))),
                        List.of(new StripeWebhookMetrics(db, shared.meters()))));
    }
}
