package uk.co.tradersflow.support;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Waits for something asynchronous to show (a handler's effect, a gauge, a backend gone), or fails. */
public final class Eventually {
    private Eventually() {}

    /** Polls {@code condition} every {@code every} until it holds; an AssertionError naming {@code what} after {@code within}. */
    public static void holds(String what, Duration within, Duration every, BooleanSupplier condition) {
        long deadline = System.nanoTime() + within.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + within.toMillis() + " ms: " + what);
            }
            try {
                Thread.sleep(every.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }
}
