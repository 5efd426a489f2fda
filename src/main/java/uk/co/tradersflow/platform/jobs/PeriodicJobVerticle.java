package uk.co.tradersflow.platform.jobs;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import java.time.Duration;

/**
 * A background job that every instance runs on a timer, one round at a time on this instance:
 * a round that is still going when the timer fires again is not joined by a second. Safety
 * across instances is each job's own (leases, SKIP LOCKED, advisory locks); this only keeps one
 * instance from overlapping itself.
 */
public abstract class PeriodicJobVerticle extends VerticleBase {
    private final Duration firstRun;
    private final Duration interval;
    private boolean running;
    private boolean again;

    protected PeriodicJobVerticle(Duration interval) {
        this(interval, interval);
    }

    /** A job whose first round should come sooner after deployment than its interval. */
    protected PeriodicJobVerticle(Duration firstRun, Duration interval) {
        this.firstRun = firstRun;
        this.interval = interval;
    }

    /** One round's work; answers how many items it handled. */
    protected abstract Future<Integer> round();

    /** Whether this instance has anything to do at all (a job whose service is not configured has not). */
    protected boolean enabled() {
        return true;
    }

    @Override
    public Future<?> start() {
        if (enabled()) {
            if (firstRun.compareTo(interval) < 0) {
                vertx.setTimer(firstRun.toMillis(), id -> runOnce());
            }
            vertx.setPeriodic(interval.toMillis(), id -> runOnce());
        }
        return Future.succeededFuture();
    }

    /** One round now, unless one is already running here; answers how many items it handled. */
    public final Future<Integer> runOnce() {
        if (running || !enabled()) {
            return Future.succeededFuture(0);
        }
        running = true;
        Future<Integer> round;
        try {
            round = round();
        } catch (RuntimeException e) {
            round = Future.failedFuture(e);
        }
        return round.onComplete(ar -> {
            running = false;
            if (again) {
                again = false;
                runOnce();
            }
        });
    }

    /**
     * A round as soon as possible, for a signal that there is work (the bus says so; the timer
     * stays the safety net): now, or right after the round already running, which may have looked
     * before the work was committed.
     */
    protected final void wake() {
        if (running) {
            again = true;
        } else {
            runOnce();
        }
    }
}
