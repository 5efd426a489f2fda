package uk.co.tradersflow.email;

import java.util.List;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.platform.module.Module;
import uk.co.tradersflow.platform.module.Shared;

/**
 * Email: the outbox other capabilities queue mail in, its dispatcher, the provider's webhook,
 * the owners' email admin routes and the outbox gauges.
 */
public record EmailModule(EmailOutbox outbox, Module module) {
    public static EmailModule create(Shared shared, AuditLog audit) {
        var config = shared.config().email();
        EmailOutbox outbox = new EmailOutbox(shared.vertx().eventBus());
        EmailHealth health =
                new EmailHealth(shared.db(), config.alertWindow(), config.alertFailureRate(), shared.prometheus());
        EmailDispatchVerticle dispatch = new EmailDispatchVerticle(
                config,
                shared.db(),
                new EmailRenderer(config.links().appUrl().toString()),
                health,
                config.retryBase(),
                shared.clock());
        return new EmailModule(
                outbox,
                new Module(
                        List.of(
                                new EmailWebhookRoutes(
                                        new EmailWebhookService(config.webhookSecret(), shared.db(), shared.clock())),
                                new EmailAdminRoutes(
                                        new EmailAdminService(shared.db(), health, outbox, audit), shared.clients())),
                        List.of(Module.Deployment.single(dispatch)),
                        List.of(new EmailMetrics(shared.db(), shared.meters()))));
    }
}
