package uk.co.tradersflow.data.invoices;

import java.math.BigDecimal;
import java.time.LocalDate;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;
import uk.co.tradersflow.platform.http.JsonInput;

/** A validated create or PATCH body for an invoice; {@code has*} says whether a PATCH touches the field. */
public record InvoiceInput(
        Optional<UUID> customerId,
        Optional<UUID> jobId,
        Optional<String> currency,
        Optional<LocalDate> dueDate,
        Optional<InvoiceStatus> status,
        List<InvoiceLine> lines,
        boolean hasCustomerId,
        boolean hasJobId,
        boolean hasCurrency,
        boolean hasDueDate,
        boolean hasStatus,
        boolean hasLines) {
    static final int MAX_LINES = 200;
    private static final Pattern CURRENCY = Pattern.compile("[A-Z]{3}");
    private static final BigDecimal MIN_QUANTITY = new BigDecimal("0.01");
    private static final BigDecimal MAX_QUANTITY = new BigDecimal("1000000");
    private static final long MAX_UNIT_PENCE = 10_000_000_000L;
    /** £1bn: far above any trade invoice, and far below 2^53, so every JSON client reads totals exactly. */
    static final long MAX_TOTAL_PENCE = 100_000_000_000L;

    static InvoiceInput forCreate(JsonInput in) {
        InvoiceInput input = read(in);
        if (input.customerId().isEmpty() && !in.hasError("customerId")) {
            in.error("customerId", "is required");
        }
        if (input.hasStatus()) {
            in.error("status", "is set by the server when an invoice is created");
        }
        in.validate();
        return input;
    }

    static InvoiceInput forPatch(JsonInput in) {
        InvoiceInput input = read(in);
        if (input.hasCustomerId() && input.customerId().isEmpty()) {
            in.error("customerId", "must not be null");
        }
        if (input.hasStatus()
                && input.status().filter(s -> s == InvoiceStatus.VOID).isEmpty()) {
            in.error("status", "can only be set to void; sending and payment set the others");
        }
        in.validate();
        return input;
    }

    private static InvoiceInput read(JsonInput in) {
        Optional<String> currency = in.optionalText("currency", 3);
        if (currency.isPresent() && !CURRENCY.matcher(currency.get()).matches()) {
            in.error("currency", "must be a three-letter ISO 4217 code such as GBP");
        }
        List<InvoiceLine> lines = in.objects(
                "lines",
                MAX_LINES,
                line -> new InvoiceLine(
                        line.requiredText("description", 500),
                        line.optionalDecimal("quantity", 2, MIN_QUANTITY, MAX_QUANTITY)
                                .orElseGet(() -> {
                                    if (!line.has("quantity")) {
                                        line.error("quantity", "is required");
                                    }
                                    return BigDecimal.ONE;
                                }),
                        line.optionalLong("unitPence", 0, MAX_UNIT_PENCE).orElseGet(() -> {
                            if (!line.has("unitPence")) {
                                line.error("unitPence", "is required");
                            }
                            return 0L;
                        })));
        if (InvoiceLine.total(lines) > MAX_TOTAL_PENCE) {
            in.error("lines", "the invoice's total must be at most " + MAX_TOTAL_PENCE + " pence");
        }
        return new InvoiceInput(
                in.optionalUuid("customerId"),
                in.optionalUuid("jobId"),
                currency,
                in.optionalDate("dueDate"),
                in.optionalEnum("status", InvoiceStatus.class),
                lines,
                in.has("customerId"),
                in.has("jobId"),
                in.has("currency"),
                in.has("dueDate"),
                in.has("status"),
                in.has("lines"));
    }

    /** True when the body changes what the invoice charges, or whom: only a draft may. */
    boolean changesContent() {
        return hasCustomerId || hasJobId || hasCurrency || hasDueDate || hasLines;
    }
}
