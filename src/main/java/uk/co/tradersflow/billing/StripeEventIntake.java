package uk.co.tradersflow.billing;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stores verified deliveries in batches, one batch in flight per event loop. A delivery that
 * arrives while its loop's batch is being stored waits for it, and the deliveries that gathered
 * meanwhile go together in the next ({@link StripeEventStore#storeAll}: one round trip and one
 * COMMIT for all). A quiet endpoint thus stores each delivery alone, at once, and a busy one in
 * batches that grow with the load, with no timer and no added wait. Each delivery's answer comes
 * after the COMMIT that stored it: durable before its 2xx, as when stored alone.
 *
 * <p>When the database refuses a batch (one event it cannot take fails the whole transaction),
 * each of its events is stored again alone, so every delivery gets the answer it would have got
 * on its own: the refused one fails, the rest are stored, and a redelivery is known as one.
 *
 * <p>Thread-safe: each event loop has its batch of its own, touched only on that loop.
 */
final class StripeEventIntake {
    private static final Logger log = LoggerFactory.getLogger(StripeEventIntake.class);
    /** The most events in one batch: its statements all travel in one write. */
    static final int MAX_BATCH = 128;

    private final StripeEventStore events;
    private final ThreadLocal<Loop> loops = new ThreadLocal<>();

    StripeEventIntake(StripeEventStore events) {
        this.events = events;
    }

    /** Stores the event (false when it was stored before: a redelivery), in its event loop's next batch. */
    Future<Boolean> store(JsonObject event, String id) {
        Context context = Vertx.currentContext();
        if (context == null || !context.isEventLoopContext() || !Context.isOnEventLoopThread()) {
            return events.store(event, id);
        }
        Loop loop = loops.get();
        if (loop == null) {
            loop = new Loop(context);
            loops.set(loop);
        }
        Promise<Boolean> stored = Promise.promise();
        loop.add(new Waiting(new StripeEventStore.Incoming(id, event), stored));
        return stored.future();
    }

    private record Waiting(StripeEventStore.Incoming incoming, Promise<Boolean> stored) {}

    /** One event loop's deliveries waiting to be stored; touched only on that loop's thread. */
    private final class Loop {
        private final Context context;
        private final ArrayDeque<Waiting> waiting = new ArrayDeque<>();
        private boolean flushing;

        Loop(Context context) {
            this.context = context;
        }

        void add(Waiting delivery) {
            waiting.add(delivery);
            if (!flushing) {
                flushing = true;
                // After the deliveries read in this turn of the loop, so they go together.
                context.runOnContext(v -> flush());
            }
        }

        private void flush() {
            if (waiting.isEmpty()) {
                flushing = false;
                return;
            }
            List<Waiting> batch = new ArrayList<>(Math.min(waiting.size(), MAX_BATCH));
            while (!waiting.isEmpty() && batch.size() < MAX_BATCH) {
                batch.add(waiting.poll());
            }
            store(batch).onComplete(done -> flush());
        }
    }

    /** Stores {@code batch} and answers each delivery in it; never fails itself. */
    private Future<Void> store(List<Waiting> batch) {
        if (batch.size() == 1) {
            return alone(batch.get(0));
        }
        return events.storeAll(batch.stream().map(Waiting::incoming).toList()).transform(ar -> {
            if (ar.succeeded()) {
                for (int i = 0; i < batch.size(); i++) {
                    batch.get(i).stored().complete(ar.result().get(i));
                }
                return Future.<Void>succeededFuture();
            }
            log.warn(
                    "a batch of {} stripe events could not be stored together ({}); storing each alone",
                    batch.size(),
                    ar.cause().toString());
            // One after another, in the order received: of two deliveries of one event the first
            // is the one stored, as it would have been had each come alone.
            Future<Void> each = Future.succeededFuture();
            for (Waiting delivery : batch) {
                each = each.compose(v -> alone(delivery));
            }
            return each;
        });
    }

    private Future<Void> alone(Waiting delivery) {
        StripeEventStore.Incoming incoming = delivery.incoming();
        return events.store(incoming.event(), incoming.id())
                .andThen(delivery.stored())
                .<Void>mapEmpty()
                .otherwiseEmpty();
    }
}
