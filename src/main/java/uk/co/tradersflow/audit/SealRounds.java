package uk.co.tradersflow.audit;

import io.vertx.core.Future;
import java.time.Duration;
import java.util.function.BiConsumer;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * When the sealer runs its rounds: one at a time, one more after a round if it was wanted meanwhile,
 * and at most one start a {@code gap} while it keeps being wanted. Every commit that appends audit
 * entries wants a round; under a stream of creations that was one round per batch's commit, a few
 * entries each, and a round has a cost of its own whatever it seals (the advisory lock, the
 * chain's head, the scan of unsealed entries, a statement and its commit). An entry now waits at
 * most about a gap longer to be sealed. A round that sealed as many entries as a round may (more
 * were waiting) is followed at once. Runs on one event loop: not thread-safe.
 */
final class SealRounds {
    private final long gapNanos;
    private final int fullRound;
    private final Supplier<Future<Integer>> round;
    private final BiConsumer<Long, Runnable> timer;
    private final LongSupplier nanoClock;
    private boolean running;
    private boolean again;
    private boolean waiting;
    private boolean stopping;
    private boolean startedOnce;
    private long lastStart;
    private Future<Integer> inFlight = Future.succeededFuture(0);

    /**
     * @param round runs one round, answering how many entries it sealed
     * @param timer runs a task after a delay in milliseconds (on this event loop)
     * @param nanoClock {@link System#nanoTime}, or a test's
     */
    SealRounds(
            Duration gap,
            int fullRound,
            Supplier<Future<Integer>> round,
            BiConsumer<Long, Runnable> timer,
            LongSupplier nanoClock) {
        this.gapNanos = gap.toNanos();
        this.fullRound = fullRound;
        this.round = round;
        this.timer = timer;
        this.nanoClock = nanoClock;
    }

    /** A round is wanted: at once, after the one running, or once the gap since the last start has passed. */
    void wanted() {
        if (stopping) {
            return;
        }
        if (running) {
            again = true;
            return;
        }
        if (waiting) {
            return; // the round the timer starts covers this want too
        }
        long wait = startedOnce ? gapNanos - (nanoClock.getAsLong() - lastStart) : 0;
        if (wait > 0) {
            waiting = true;
            timer.accept((wait + 999_999) / 1_000_000, () -> {
                waiting = false;
                wanted();
            });
            return;
        }
        start();
    }

    /** No round starts from now on; completes once the round in flight, if any, has ended. */
    Future<Void> stop() {
        stopping = true;
        return inFlight.<Void>mapEmpty().otherwiseEmpty();
    }

    private void start() {
        running = true;
        again = false;
        startedOnce = true;
        lastStart = nanoClock.getAsLong();
        Future<Integer> sealing;
        try {
            sealing = round.get();
        } catch (RuntimeException e) {
            sealing = Future.failedFuture(e); // a round that throws must not leave the schedule "running"
        }
        inFlight = sealing;
        sealing.onComplete(ar -> {
            running = false;
            // A failed round is retried by whoever wants one next (the sealer's timer, at the latest).
            if (stopping || ar.failed()) {
                return;
            }
            if (ar.result() >= fullRound) {
                start();
            } else if (again) {
                wanted();
            }
        });
    }
}
