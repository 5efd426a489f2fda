package uk.co.tradersflow.billing;

/** Bus payload: the stored Stripe event {@code id} is due for handling (just stored, or replayed by an owner). */
public record StripeEventDue(String id) {}
