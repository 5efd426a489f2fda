package uk.co.tradersflow.platform.bus;

/**
 * Every event-bus address, in one place. The bus carries signals between verticles of one
 * instance; anything that must survive a crash is in Postgres first, and anything that must
 * reach other instances goes through Redis as well.
 */
public final class Addresses {
    private Addresses() {}

    /** Published: a session (or all of a user's sessions) was revoked; drop cached session state. */
    public static final String SESSION_REVOKED = "session.revoked";
    /** Published: audit entries were committed; the sealer should chain them soon. */
    public static final String AUDIT_APPENDED = "audit.appended";
    /** Published: outbox rows were committed; the dispatcher should look for due work. */
    public static final String EMAIL_DISPATCH = "email.dispatch";
    /**
     * Sent (point-to-point, after the commit): a Stripe event was stored or replayed ({@code StripeEventDue});
     * one webhook verticle handles it now instead of at its next poll.
     */
    public static final String STRIPE_EVENT_DUE = "stripe.event.due";
    /** Published: an account was closed; the retention job should cancel its subscriptions now, not at its next round. */
    public static final String ACCOUNT_CLOSED = "account.closed";
}
