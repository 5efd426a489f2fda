package uk.co.tradersflow.billing;

/**
 * The billing row an event reconciles was written by someone else during each of its rounds of
 * reading Stripe. Contention between events of one customer, handled side by side, and no fault of
 * the event: it is deferred for a fresh round, not failed.
 */
final class RowKeptChanging extends RuntimeException {
    RowKeptChanging(int rounds) {
        super("the billing row changed during each of " + rounds + " reads from Stripe", null, false, false);
    }
}
