package uk.co.tradersflow.billing;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.co.tradersflow.platform.bus.Addresses;

/**
 * Applies stored Stripe events after the 2xx has gone ({@link StripeWebhookService} stores them on
 * the receiving event loop). Woken by {@link Addresses#STRIPE_EVENT_DUE} once an event is stored
 * or replayed, and polling besides, so a lost signal, a crash or a failed attempt only delays
 * an event: the poller retries failed events with exponential backoff (2^attempts s, capped at
 * 1 h, at most {@link StripeEventStore#MAX_ATTEMPTS} tries before it waits for an owner's replay).
 *
 * <p>Two lanes, each a drain loop: it claims a batch of due events (as many as it has room for),
 * handles them side by side, and claims the next batch as soon as there is room while there is
 * work. A wake-up that arrives while the lane is full or claiming is remembered, never dropped,
 * so a backlog drains at the database's pace rather than the poller's. Events whose handling may
 * call Stripe ({@link StripeEventStore#CALLS_STRIPE}) have a lane of their own, so a slow Stripe
 * never holds back the others (payments, ignored types), which only touch the database; the
 * Stripe reads themselves are bounded in the handler, so the Stripe lane's events that turn out
 * to need none (no account has their customer) are not held back by those that wait on Stripe. Ordering needs
 * no serialising here: the handler writes billing rows under their row version and marks an
 * invoice paid once (see {@link StripeEventHandler}), whatever order or overlap events run in.
 */
public final class StripeWebhookVerticle extends VerticleBase {
    private static final Logger log = LoggerFactory.getLogger(StripeWebhookVerticle.class);
    private static final long POLL_MS = 1000;
    private static final long DEFER_MS = 200;
    /**
     * Stripe reads per handling verticle at once ({@link StripeEventHandler}'s bound is this times the
     * verticles). Each waits on a {@code tf-stripe} worker thread and on Stripe (up to the read
     * timeout) holding no database connection; an event that needs one more is handed back
     * ({@link StripeCallsBusy}) and claimed again shortly.
     */
    static final int MAX_STRIPE_HANDLING = 3;
    /**
     * Events of the Stripe lane in hand at once. Most of them need no Stripe read after all (their
     * customer has no account here, or the event names no subscription): those are one short worker
     * transaction each, and should not wait behind the few that wait on Stripe.
     */
    static final int MAX_STRIPE_LANE = 16;
    /**
     * Database-only handlers per verticle at once: each is one short worker transaction, so a few
     * keep the database busy while leaving the worker pool (at least 10 connections, shared by two
     * verticles, the 2xx path, email dispatch and the sweepers) room for the rest; a transaction
     * waits for a connection rather than fails.
     */
    static final int MAX_LOCAL_HANDLING = 8;

    private final StripeEventStore events;
    private final StripeEventHandler handler;
    private final MeterRegistry registry;
    private final Lane stripeLane = new Lane(true, MAX_STRIPE_LANE);
    private final Lane localLane = new Lane(false, MAX_LOCAL_HANDLING);
    private MessageConsumer<StripeEventDue> due;
    private long timer;
    private boolean stopped;

    public StripeWebhookVerticle(StripeEventStore events, StripeEventHandler handler, MeterRegistry registry) {
        this.events = events;
        this.handler = handler;
        this.registry = registry;
    }

    @Override
    public Future<?> start() {
        // The signal names the event, but not its lane: both lanes look, and the one it is in claims it.
        due = vertx.eventBus().consumer(Addresses.STRIPE_EVENT_DUE, m -> signal());
        timer = vertx.setPeriodic(POLL_MS, id -> signal());
        signal();
        return due.completion();
    }

    @Override
    public Future<?> stop() {
        stopped = true;
        vertx.cancelTimer(timer);
        return due.unregister();
    }

    private void signal() {
        stripeLane.signal();
        localLane.signal();
    }

    /**
     * One drain loop. All its state is touched only on this verticle's context, so plain fields
     * suffice. {@code more} is "work may be due": set by a wake-up, a poll or a full batch, and
     * cleared only when a claim starts, so a signal that arrives while the lane is busy is kept.
     */
    private final class Lane {
        private final boolean callsStripe;
        private final int max;
        private int handling;
        private boolean claiming;
        private boolean more;

        Lane(boolean callsStripe, int max) {
            this.callsStripe = callsStripe;
            this.max = max;
        }

        void signal() {
            more = true;
            drain();
        }

        private void drain() {
            int room = max - handling;
            if (stopped || claiming || !more || room <= 0) {
                return;
            }
            more = false;
            claiming = true;
            events.claimDue(callsStripe, room).onComplete(ar -> {
                claiming = false;
                if (ar.failed()) {
                    // Left for the next wake-up or poll, which sets more again.
                    log.error("stripe events could not be claimed", ar.cause());
                    return;
                }
                List<StripeEventStore.Claimed> batch = ar.result();
                if (batch.size() == room) {
                    more = true; // a full batch: there may be more behind it
                }
                for (StripeEventStore.Claimed claimed : batch) {
                    handling++;
                    handle(claimed).onComplete(done -> {
                        handling--;
                        drain();
                    });
                }
                drain();
            });
        }
    }

    /**
     * Applies one claimed event; a failure marks it failed for a later retry, contention over its
     * billing row puts it back as pending. Never fails itself.
     */
    private Future<Void> handle(StripeEventStore.Claimed claimed) {
        String id = claimed.id();
        // Through compose, so a handler that throws fails this future instead of the drain loop.
        return Future.succeededFuture(claimed)
                .compose(handler::apply)
                .recover(e -> {
                    if (e instanceof LeaseLost) {
                        // Another claim holds the event now; this handling's effects were rolled back.
                        log.info("stripe event {}: {}", id, e.getMessage());
                        return Future.succeededFuture();
                    }
                    if (e instanceof StripeCallsBusy) {
                        return events.handedBack(
                                claimed, DEFER_MS + ThreadLocalRandom.current().nextLong(DEFER_MS));
                    }
                    if (e instanceof RowKeptChanging) {
                        // Spread out, so the events of one customer that collided do not collide again.
                        long delay = DEFER_MS + ThreadLocalRandom.current().nextLong(DEFER_MS);
                        log.debug("stripe event {} deferred {} ms: {}", id, delay, e.getMessage());
                        return events.deferred(claimed, e.getMessage(), delay);
                    }
                    log.warn("stripe event {} failed (attempt {}): {}", id, claimed.attempts(), e.toString());
                    Counter.builder("tf_stripe_webhook_failed")
                            .register(registry)
                            .increment();
                    StripeWebhookMetrics.count(StripeWebhookMetrics.Outcome.FAILED);
                    return events.failed(claimed, e.getClass().getSimpleName() + ": " + e.getMessage());
                })
                .recover(e -> {
                    log.error("stripe event {} could not be marked failed", id, e);
                    return Future.succeededFuture();
                });
    }
}
