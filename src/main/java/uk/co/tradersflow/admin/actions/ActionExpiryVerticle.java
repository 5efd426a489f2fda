package uk.co.tradersflow.admin.actions;

import io.vertx.core.Future;
import java.time.Duration;
import uk.co.tradersflow.platform.jobs.PeriodicJobVerticle;

/**
 * Marks pending actions whose five minutes have passed as expired, each with an
 * {@code admin.action_expired} audit entry, so an action nobody confirmed is on the record too.
 * Actions an instance left performing when it stopped mid-way are failed after
 * {@link #STALLED_AFTER}, the outcome recorded as unknown. Every instance sweeps; SKIP LOCKED
 * keeps them from handling one action twice.
 */
final class ActionExpiryVerticle extends PeriodicJobVerticle {
    private static final int BATCH = 100;
    /** Far longer than any action takes to perform (a Stripe call gives up within seconds). */
    static final Duration STALLED_AFTER = Duration.ofMinutes(10);

    private final AdminActionsService service;

    ActionExpiryVerticle(AdminActionsService service, Duration interval) {
        super(interval);
        this.service = service;
    }

    @Override
    protected Future<Integer> round() {
        return service.expireDue(BATCH)
                .compose(expired -> service.failStalled(BATCH, STALLED_AFTER).map(failed -> expired + failed));
    }
}
