package uk.co.tradersflow.billing;

/** A verified delivery, stored: {@code duplicate} when Stripe had delivered the event before. */
public record StripeWebhookReceipt(String eventId, boolean duplicate) {}
