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
  /** Request-reply: a raw Stripe webhook delivery to verify and store ({@code StripeDelivery} → {@code WebhookVerdict}). */
  public static final String STRIPE_WEBHOOK = "stripe.webhook";
  /** Published: a Stripe event became due (an owner replayed it); the webhook verticle should look now. */
  public static final String STRIPE_EVENT_DUE = "stripe.event.due";
  /** Published: an account was closed; the retention job should cancel its subscriptions now, not at its next round. */
  public static final String ACCOUNT_CLOSED = "account.closed";
}
