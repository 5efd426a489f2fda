package uk.co.tradersflow.billing;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import java.util.ArrayDeque;
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
 * applies as much of it as the database alone decides in one transaction
 * ({@link StripeEventHandler#applyBatch}), applies the rest (the events that read Stripe) one by
 * one, and claims the next batch as soon as there is room while there is work. A wake-up that arrives while the lane is full or claiming is remembered, never dropped,
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
     * Events of the Stripe lane applied alone at once (those that read Stripe, left by their batch).
     * Most of them wait on Stripe or are handed back at once ({@link StripeCallsBusy}), so a few
     * more than the Stripe reads keep those reads busy without churning the rest through the queue.
     */
    static final int MAX_STRIPE_LANE = 16;
    /**
     * Events of the database-only lane applied alone at once: only after their batch's transaction
     * failed as a whole, so each event succeeds or fails on its own. Each is one short worker
     * transaction.
     */
    static final int MAX_LOCAL_HANDLING = 8;
    /**
     * The most events one claim takes, applied in one transaction. Large enough that a backlog
     * costs a handful of round trips and one COMMIT per batch instead of several per event;
     * small enough that one batch's transaction stays well inside its budget (Db.UNIT_TIMEOUT)
     * when it applies payments, a few statements each.
     */
    static final int BATCH = 128;
    /**
     * Batches in flight per lane: while one is applied the next is claimed and applied beside it,
     * so the database is never idle between them. Each holds one worker connection (at least 10,
     * shared by both verticles' lanes, the 2xx path, email dispatch and the sweepers).
     */
    static final int BATCHES = 2;
    /** Events in hand per lane: two full batches, and the Stripe lane's events queued to read Stripe. */
    static final int MAX_IN_HAND = BATCHES * BATCH + MAX_STRIPE_LANE;

    private final StripeEventStore events;
    private final StripeEventHandler handler;
    private final MeterRegistry registry;
    private final Lane stripeLane = new Lane(true, MAX_IN_HAND, MAX_STRIPE_LANE);
    private final Lane localLane = new Lane(false, MAX_IN_HAND, MAX_LOCAL_HANDLING);
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
     *
     * <p>A claimed batch is applied in one transaction ({@link StripeEventHandler#applyBatch});
     * while it is, a full batch lets the next be claimed and applied beside it, up to
     * {@link #BATCHES} at once. The events the batch leaves to be applied alone (those that read
     * Stripe) queue in the lane and are applied at most {@code maxAlone} at a time; events in hand
     * (in a batch or queued) never exceed {@code max}, so a lane waiting on Stripe stops claiming.
     */
    private final class Lane {
        private final boolean callsStripe;
        private final int max;
        private final int maxAlone;
        private final ArrayDeque<StripeEventStore.Claimed> queued = new ArrayDeque<>();
        private int inHand;
        private int batches;
        private int applyingAlone;
        private boolean more;

        Lane(boolean callsStripe, int max, int maxAlone) {
            this.callsStripe = callsStripe;
            this.max = max;
            this.maxAlone = maxAlone;
        }

        void signal() {
            more = true;
            drain();
        }

        private void drain() {
            int room = Math.min(BATCH, max - inHand);
            if (stopped || !more || batches >= BATCHES || room <= 0) {
                return;
            }
            more = false;
            batches++;
            inHand += room; // held for the claim; what it does not fill is given back
            events.claimDue(callsStripe, room)
                    .compose(batch -> {
                        inHand -= room - batch.size();
                        if (batch.size() == room) {
                            more = true; // a full batch: there may be more behind it, claimed beside this one
                            drain();
                        }
                        return batch.isEmpty() ? Future.succeededFuture() : apply(batch);
                    })
                    .onComplete(ar -> {
                        batches--;
                        if (ar.failed()) {
                            inHand -= room;
                            // Left for the next wake-up or poll, which sets more again.
                            log.error("stripe events could not be claimed", ar.cause());
                        }
                        drain();
                    });
        }

        /** Applies {@code batch}; completes once its transaction has (the events it leaves go on). Never fails. */
        private Future<Void> apply(List<StripeEventStore.Claimed> batch) {
            return handler.applyBatch(batch).map(outcome -> {
                // Applied and marked by the batch: out of hand now.
                inHand -=
                        batch.size() - outcome.alone().size() - outcome.failed().size();
                for (StripeEventHandler.Failure failure : outcome.failed()) {
                    settle(failure.claimed(), failure.cause()).onComplete(done -> {
                        inHand--;
                        drain();
                    });
                }
                queued.addAll(outcome.alone());
                applyQueued();
                return null;
            });
        }

        /** Claimed events are applied even while the verticle stops, as those in flight are: their claims are held. */
        private void applyQueued() {
            while (applyingAlone < maxAlone && !queued.isEmpty()) {
                applyingAlone++;
                handle(queued.poll()).onComplete(done -> {
                    applyingAlone--;
                    inHand--;
                    applyQueued();
                    drain();
                });
            }
        }
    }

    /**
     * Applies one claimed event alone; a failure marks it failed for a later retry, contention over
     * its billing row puts it back as pending. Never fails itself.
     */
    private Future<Void> handle(StripeEventStore.Claimed claimed) {
        // Through compose, so a handler that throws fails this future instead of the drain loop.
        return Future.succeededFuture(claimed).compose(handler::apply).recover(e -> settle(claimed, e));
    }

    /** Settles an event whose handling failed with {@code e}, as {@link #handle} describes. Never fails. */
    private Future<Void> settle(StripeEventStore.Claimed claimed, Throwable e) {
        String id = claimed.id();
        Future<Void> settled;
        if (e instanceof LeaseLost) {
            // Another claim holds the event now; this handling's effects were rolled back.
            log.info("stripe event {}: {}", id, e.getMessage());
            settled = Future.succeededFuture();
        } else if (e instanceof StripeCallsBusy) {
            settled = events.handedBack(
                    claimed, DEFER_MS + ThreadLocalRandom.current().nextLong(DEFER_MS));
        } else if (e instanceof RowKeptChanging) {
            // Spread out, so the events of one customer that collided do not collide again.
            long delay = DEFER_MS + ThreadLocalRandom.current().nextLong(DEFER_MS);
            log.debug("stripe event {} deferred {} ms: {}", id, delay, e.getMessage());
            settled = events.deferred(claimed, e.getMessage(), delay);
        } else {
            log.warn("stripe event {} failed (attempt {}): {}", id, claimed.attempts(), e.toString());
            Counter.builder("tf_stripe_webhook_failed").register(registry).increment();
            StripeWebhookMetrics.count(StripeWebhookMetrics.Outcome.FAILED);
            settled = events.failed(claimed, e.getClass().getSimpleName() + ": " + e.getMessage());
        }
        return settled.recover(err -> {
            log.error("stripe event {} could not be marked failed", id, err);
            return Future.succeededFuture();
        });
    }
}
