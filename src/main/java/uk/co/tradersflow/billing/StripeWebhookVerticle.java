package uk.co.tradersflow.billing;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.co.tradersflow.platform.bus.Addresses;

/**
 * Applies stored Stripe events after the 2xx has gone ({@link StripeWebhookService} stores them on
 * the receiving event loop). Woken by {@link Addresses#STRIPE_EVENT_DUE} once an event is stored
 * or replayed, and polling besides, so a lost signal, a crash or a failed attempt only delays
 * an event: the poller retries failed events with exponential backoff (2^attempts s, capped at
 * 1 h, at most {@link StripeEventStore#MAX_ATTEMPTS} tries before it waits for an owner's replay).
 */
public final class StripeWebhookVerticle extends VerticleBase {
    private static final Logger log = LoggerFactory.getLogger(StripeWebhookVerticle.class);
    private static final long POLL_MS = 1000;
    /**
     * Handlers per instance at once. Each holds a pooled worker connection for its short
     * transactions and waits on Stripe (up to the read timeout) in between, so this cap keeps the
     * worker pool free for storing deliveries (the 2xx path) even when Stripe is slow; events above
     * it stay pending for the poller.
     */
    static final int MAX_HANDLING = 3;

    private final StripeEventStore events;
    private final StripeEventHandler handler;
    private final MeterRegistry registry;
    private MessageConsumer<StripeEventDue> due;
    private long timer;
    private boolean polling;
    private int handling;

    public StripeWebhookVerticle(StripeEventStore events, StripeEventHandler handler, MeterRegistry registry) {
        this.events = events;
        this.handler = handler;
        this.registry = registry;
    }

    @Override
    public Future<?> start() {
        due = vertx.eventBus()
                .consumer(Addresses.STRIPE_EVENT_DUE, m -> process(m.body().id()));
        timer = vertx.setPeriodic(POLL_MS, id -> poll());
        return due.completion();
    }

    @Override
    public Future<?> stop() {
        vertx.cancelTimer(timer);
        return due.unregister();
    }

    /** Claims and applies one event; a failure marks it failed for a later retry. */
    Future<Void> process(String id) {
        if (handling >= MAX_HANDLING) {
            return Future.succeededFuture();
        }
        handling++;
        return events.claim(id)
                .compose(claimed -> claimed.isEmpty()
                        ? Future.<Void>succeededFuture()
                        : handler.apply(claimed.get()).recover(e -> {
                            log.warn(
                                    "stripe event {} failed (attempt {}): {}",
                                    id,
                                    claimed.get().attempts(),
                                    e.toString());
                            Counter.builder("tf_stripe_webhook_failed")
                                    .register(registry)
                                    .increment();
                            StripeWebhookMetrics.count(StripeWebhookMetrics.Outcome.FAILED);
                            return events.failed(id, e.getClass().getSimpleName() + ": " + e.getMessage());
                        }))
                .recover(e -> {
                    log.error("stripe event {} could not be claimed or marked", id, e);
                    return Future.succeededFuture();
                })
                .andThen(ar -> handling--);
    }

    private void poll() {
        if (polling) {
            return;
        }
        int room = MAX_HANDLING - handling;
        if (room <= 0) {
            return;
        }
        polling = true;
        events.due(room)
                .compose(ids -> Future.join(ids.stream().map(this::process).toList()))
                .onComplete(ar -> polling = false);
    }
}
