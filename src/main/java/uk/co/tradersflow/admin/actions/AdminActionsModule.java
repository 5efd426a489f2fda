package uk.co.tradersflow.admin.actions;

import java.time.Duration;
import java.util.List;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.billing.StripeGateway;
import uk.co.tradersflow.platform.module.Module;
import uk.co.tradersflow.platform.module.Shared;

/**
 * The admin area's two-step actions: their routes, and the sweep that records actions left to
 * expire. Suspension goes through auth's {@code AccountSuspension}, refunds and trials through
 * billing's Stripe gateway, sign-in links and report exports through the services given here.
 */
public final class AdminActionsModule {
    /** How often overdue pending actions are marked expired (and audited). */
    static final Duration EXPIRY_SWEEP = Duration.ofSeconds(5);

    private AdminActionsModule() {}

    public static Module create(
            Shared shared, AuditLog audit, StripeGateway stripe, SignInLinks signInLinks, ReportExports reportExports) {
        return module(shared, service(shared, audit, stripe, signInLinks, reportExports));
    }

    /** The use cases alone: the routes' and the owners' console's (one service, two clients). */
    public static AdminActionsService service(
            Shared shared, AuditLog audit, StripeGateway stripe, SignInLinks signInLinks, ReportExports reportExports) {
        return new AdminActionsService(
                shared.db(),
                new AdminActionsRepository(shared.db()),
                audit,
                shared.config().auth(),
                new ActionEffects(shared.db(), audit, stripe, signInLinks, reportExports, shared.clock()));
    }

    /** The routes and the expiry sweep over {@code service}. */
    public static Module module(Shared shared, AdminActionsService service) {
        return new Module(
                List.of(new AdminActionsRoutes(service, shared.clients())),
                List.of(Module.Deployment.single(new ActionExpiryVerticle(service, EXPIRY_SWEEP))),
                List.of());
    }
}
