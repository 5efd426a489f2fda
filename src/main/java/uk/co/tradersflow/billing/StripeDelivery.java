package uk.co.tradersflow.billing;

import io.vertx.core.buffer.Buffer;

/** A webhook delivery as received: the raw body bytes, untouched, and the signature header (may be null). */
public record StripeDelivery(Buffer body, String signature) {}
