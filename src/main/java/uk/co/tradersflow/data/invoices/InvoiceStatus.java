package uk.co.tradersflow.data.invoices;

/** An invoice's life: drafted, sent to the customer, paid through Stripe, or voided. */
public enum InvoiceStatus {
    DRAFT,
    SENT,
    PAID,
    VOID;

    String dbValue() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
