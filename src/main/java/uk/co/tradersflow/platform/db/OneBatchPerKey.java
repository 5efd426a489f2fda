package uk.co.tradersflow.platform.db;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;
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
 *
 * <p>Waiting is bounded, so a database that stops answering costs a request no more than it would
 * alone: an item that has waited {@code maxWait} when its batch forms fails with a {@link
 * TimeoutException} instead of starting a unit of work of its own, and a runner whose database did
 * not answer fails its key's waiting items at once ({@link #failWaiting}) rather than let each try
 * the same database again after it.
 */
public final class OneBatchPerKey<K, C, R> {
    private final int maxBatch;
    private final long maxWaitNanos;
    private final BiFunction<K, List<Item<C, R>>, Future<Void>> runner;
    private final Map<K, ArrayDeque<Item<C, R>>> waiting = new HashMap<>();

    public OneBatchPerKey(int maxBatch, Duration maxWait, BiFunction<K, List<Item<C, R>>, Future<Void>> runner) {
        if (maxBatch < 1) {
            throw new IllegalArgumentException("maxBatch must be at least 1");
        }
        this.maxBatch = maxBatch;
        this.maxWaitNanos = maxWait.toNanos();
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
        Attempt.of(items -> runner.apply(key, items), batch).onComplete(ar -> {
            failUnsettled(batch, ar.failed() ? ar.cause() : null);
            List<Item<C, R>> next = next(key);
            if (next != null) {
                run(key, next);
            }
        });
    }

    /**
     * Fails the items the runner left unsettled with its failure, or, when it succeeded, with a
     * defect of its own. Built only when an item needs it: an exception fills in its stack trace,
     * and every batch a creation forms passes here.
     */
    private static <C, R> void failUnsettled(List<Item<C, R>> batch, Throwable runnerFailure) {
        Throwable cause = runnerFailure;
        for (Item<C, R> item : batch) {
            if (!item.settled()) {
                if (cause == null) {
                    cause = new IllegalStateException("the batch left an item unsettled");
                }
                item.fail(cause);
            }
        }
    }

    /**
     * Fails every item waiting for {@code key} with {@code cause}, for a runner whose database did
     * not answer: those behind it would ask the same database again, each after the other.
     */
    public void failWaiting(K key, Throwable cause) {
        List<Item<C, R>> failed;
        synchronized (waiting) {
            ArrayDeque<Item<C, R>> queue = waiting.get(key);
            if (queue == null) {
                return;
            }
            failed = new ArrayList<>(queue);
            queue.clear();
        }
        failed.forEach(item -> item.fail(cause));
    }

    /** The key's next batch, or null (the key no longer busy) when nothing waits. */
    private List<Item<C, R>> next(K key) {
        List<Item<C, R>> batch = new ArrayList<>();
        List<Item<C, R>> expired = new ArrayList<>();
        long now = System.nanoTime();
        synchronized (waiting) {
            ArrayDeque<Item<C, R>> queue = waiting.get(key);
            while (!queue.isEmpty() && batch.size() < maxBatch) {
                Item<C, R> item = queue.poll();
                (now - item.queuedAt > maxWaitNanos ? expired : batch).add(item);
            }
            if (batch.isEmpty() && queue.isEmpty()) {
                waiting.remove(key);
            }
        }
        if (!expired.isEmpty()) {
            TimeoutException late = new TimeoutException("waited over " + maxWaitNanos / 1_000_000
                    + " ms for the database behind earlier work of the same key; nothing was saved");
            expired.forEach(item -> item.fail(late));
        }
        // Items are taken until the queue is empty or the batch full: an empty batch left none.
        return batch.isEmpty() ? null : batch;
    }

    /** One submitted command and its outcome; settled once, later calls are ignored. */
    public static final class Item<C, R> {
        private final C command;
        private final Context context;
        private final Promise<R> promise = Promise.promise();
        private final long queuedAt = System.nanoTime();
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
