package uk.co.tradersflow.admin.actions;

import io.vertx.core.Future;
import java.time.Duration;
import uk.co.tradersflow.platform.jobs.PeriodicJobVerticle;

/**
 * Marks pending actions whose five minutes have passed as expired, each with an
 * {@code admin.action_expired} audit entry, so an action nobody confirmed is on the record too.
 * Every instance sweeps; SKIP LOCKED keeps them from expiring one action twice.
 */
final class ActionExpiryVerticle extends PeriodicJobVerticle {
    private static final int BATCH = 100;

    private final AdminActionsService service;

    ActionExpiryVerticle(AdminActionsService service, Duration interval) {
        super(interval);
        this.service = service;
    }

    @Override
    protected Future<Integer> round() {
        return service.expireDue(BATCH);
    }
}
