package uk.co.tradersflow.console;

import java.util.Optional;
import uk.co.tradersflow.admin.AdminService;
import uk.co.tradersflow.admin.actions.AdminActionsService;
import uk.co.tradersflow.admin.report.CsvReportService;
import uk.co.tradersflow.audit.AuditChain;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.auth.AuthServices;
import uk.co.tradersflow.auth.SessionStateCache;
import uk.co.tradersflow.billing.StripeEventStore;
import uk.co.tradersflow.billing.WebhookAdminService;
import uk.co.tradersflow.email.EmailAdminService;
import uk.co.tradersflow.email.EmailHealth;
import uk.co.tradersflow.email.EmailOutbox;
import uk.co.tradersflow.platform.module.Module;
import uk.co.tradersflow.platform.module.Shared;

/**
 * The owners' console at {@code /admin}: pages over the admin area's services (the same
 * services, and the same gate, as {@code /admin/api}), signed in through auth's own sign-in.
 */
public final class ConsoleModule {
    private ConsoleModule() {}

    public static Module create(
            Shared shared,
            AuthServices auth,
            AdminActionsService actions,
            AuditLog audit,
            AuditChain chain,
            EmailOutbox outbox,
            CsvReportService reports) {
        var db = shared.db();
        var emailConfig = shared.config().email();
        ConsoleRoutes.Services services = new ConsoleRoutes.Services(
                new AdminService(db, shared.config().auth()),
                actions,
                chain,
                new EmailAdminService(
                        db,
                        new EmailHealth(
                                db, emailConfig.alertWindow(), emailConfig.alertFailureRate(), Optional.empty()),
                        outbox,
                        audit),
                new WebhookAdminService(
                        db, new StripeEventStore(db, shared.vertx().eventBus()), audit),
                auth.signIn(),
                auth.limits(),
                auth.session(),
                new SessionStateCache(shared.vertx(), db),
                reports);
        return Module.routes(new ConsoleRoutes(
                services,
                new ConsolePages(),
                new ConsoleCookie(shared.keys().dataKey()),
                new ConsoleIdle(shared.redis(), shared.redisKeys(), shared.clock()),
                shared.config().auth(),
                shared.clients(),
                shared.clock()));
    }
}
