package uk.co.tradersflow.billing;

/**
 * The event needs a Stripe read while as many as this instance allows are already waiting on
 * Stripe. Nothing was done and nothing failed: the event goes back to the queue as it was, its
 * claim not counted as an attempt, and is claimed again shortly.
 */
final class StripeCallsBusy extends RuntimeException {
    StripeCallsBusy(int limit) {
        super("all " + limit + " Stripe calls this instance allows are in flight", null, false, false);
    }
}
