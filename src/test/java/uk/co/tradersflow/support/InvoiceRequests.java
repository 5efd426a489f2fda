package uk.co.tradersflow.support;

import io.vertx.core.json.JsonObject;

/** Invoice request bodies as a client sends them ({@code openapi.yaml}'s {@code InvoiceLine}). */
public final class InvoiceRequests {
    private InvoiceRequests() {}

    /** One line; {@code quantity} is any JSON value, so a test can send what the contract refuses too. */
    public static JsonObject line(String description, Object quantity, long unitPence) {
        return new JsonObject()
                .put("description", description)
                .put("quantity", quantity)
                .put("unitPence", unitPence);
    }
}
