package uk.co.tradersflow.billing;

/**
 * A handler outlived its claim's lease and another claim (on this instance or another) has taken
 * the event over: what this handler was about to commit is rolled back, the newer claim decides.
 */
final class LeaseLost extends RuntimeException {
    LeaseLost(String eventId) {
        super(
                "event " + eventId + " is held by a newer claim; this handling's effects are rolled back",
                null,
                false,
                false);
    }
}
