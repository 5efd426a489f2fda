package uk.co.tradersflow.data.invoices;

import java.math.BigDecimal;
import java.math.RoundingMode;

/** One line of an invoice. Its amount is quantity × unit price, rounded half-up to a whole penny. */
public record InvoiceLine(String description, BigDecimal quantity, long unitPence) {

    long amountPence() {
        return quantity.multiply(BigDecimal.valueOf(unitPence))
                .setScale(0, RoundingMode.HALF_UP)
                .longValueExact();
    }

    static long total(java.util.List<InvoiceLine> lines) {
        return lines.stream().mapToLong(InvoiceLine::amountPence).sum();
    }
}
