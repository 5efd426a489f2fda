package uk.co.tradersflow.platform.db;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * Work that must take one key's lock in the database, run one batch at a time per key on this
 * instance: the first item for a key starts at once, alone; items for that key arriving while it
 * runs wait, and go together in the next batch (at most {@code maxBatch}). Under no contention
 * nothing waits; under contention one transaction holds the key's lock for many items instead of
 * each item queueing for it with a connection of the pool held idle meanwhile. Across instances
 * the database's lock still orders the batches, so nothing here depends on which instance a
 * request reaches.
 *
 * <p>The runner settles every item of its batch ({@link Item#succeed}, {@link Item#fail}); an
 * item it left unsettled fails with the runner's own failure. Each item's outcome reaches its
 * submitter on the submitter's own context (event loop), whichever loop ran the batch. The
 * keys' queues sit behind one monitor held only to add or take items, never across I/O.
 */
public final class OneBatchPerKey<K, C, R> {
    private final int maxBatch;
    private final BiFunction<K, List<Item<C, R>>, Future<Void>> runner;
    private final Map<K, ArrayDeque<Item<C, R>>> waiting = new HashMap<>();

    public OneBatchPerKey(int maxBatch, BiFunction<K, List<Item<C, R>>, Future<Void>> runner) {
        if (maxBatch < 1) {
            throw new IllegalArgumentException("maxBatch must be at least 1");
        }
        this.maxBatch = maxBatch;
        this.runner = runner;
    }

    /** {@code command}'s outcome, once the batch it joins has run. */
    public Future<R> submit(K key, C command) {
        Item<C, R> item = new Item<>(command, Vertx.currentContext());
        List<Item<C, R>> batch = null;
        synchronized (waiting) {
            ArrayDeque<Item<C, R>> queue = waiting.get(key);
            if (queue == null) {
                // No batch of this key in flight: this item starts one. The empty queue marks the
                // key busy until that batch ends.
                waiting.put(key, new ArrayDeque<>());
                batch = List.of(item);
            } else {
                queue.add(item);
            }
        }
        if (batch != null) {
            run(key, batch);
        }
        return item.promise.future();
    }

    private void run(K key, List<Item<C, R>> batch) {
        Future<Void> ran;
        try {
            ran = runner.apply(key, batch);
        } catch (RuntimeException e) {
            ran = Future.failedFuture(e);
        }
        ran.onComplete(ar -> {
            Throwable cause = ar.failed() ? ar.cause() : new IllegalStateException("the batch left an item unsettled");
            for (Item<C, R> item : batch) {
                item.fail(cause);
            }
            List<Item<C, R>> next = next(key);
            if (next != null) {
                run(key, next);
            }
        });
    }

    /** The key's next batch, or null (the key no longer busy) when nothing waits. */
    private List<Item<C, R>> next(K key) {
        synchronized (waiting) {
            ArrayDeque<Item<C, R>> queue = waiting.get(key);
            if (queue.isEmpty()) {
                waiting.remove(key);
                return null;
            }
            List<Item<C, R>> batch = new ArrayList<>(Math.min(queue.size(), maxBatch));
            while (!queue.isEmpty() && batch.size() < maxBatch) {
                batch.add(queue.poll());
            }
            return batch;
        }
    }

    /** One submitted command and its outcome; settled once, later calls are ignored. */
    public static final class Item<C, R> {
        private final C command;
        private final Context context;
        private final Promise<R> promise = Promise.promise();
        private boolean settled;

        private Item(C command, Context context) {
            this.command = command;
            this.context = context;
        }

        public C command() {
            return command;
        }

        public void succeed(R result) {
            settle(() -> promise.complete(result));
        }

        public void fail(Throwable cause) {
            settle(() -> promise.fail(cause));
        }

        public boolean settled() {
            return settled;
        }

        private void settle(Runnable outcome) {
            if (settled) {
                return;
            }
            settled = true;
            if (context == null || context == Vertx.currentContext()) {
                outcome.run();
            } else {
                context.runOnContext(v -> outcome.run());
            }
        }
    }
}
