package uk.co.tradersflow.audit;

import java.time.Duration;

/**
 * When the sealer's next round may start. Every commit that appends entries signals the sealer,
 * and under a steady stream of writes it ran one round per commit of a batch, a few entries each;
 * a round has a cost of its own whatever it seals (the advisory lock, the chain's head, the
 * unsealed entries' scan, a statement and its commit), so rounds start at most once a {@code gap}.
 * An entry then waits at most about a gap longer to be sealed. A round that found more entries
 * than it could take is caught up at once, not paced.
 */
final class SealPacing {
    private final long gapNanos;
    private long lastStart;
    private boolean startedOnce;

    SealPacing(Duration gap) {
        this.gapNanos = gap.toNanos();
    }

    /** How long a round wanted at {@code nowNanos} ({@link System#nanoTime}) must wait; zero for at once. */
    long waitNanos(long nowNanos) {
        return startedOnce ? Math.max(0, gapNanos - (nowNanos - lastStart)) : 0;
    }

    /** A round starts at {@code nowNanos}. */
    void started(long nowNanos) {
        lastStart = nowNanos;
        startedOnce = true;
    }
}
