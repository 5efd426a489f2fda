package uk.co.tradersflow.data.invoices;

import io.vertx.core.json.Json;
import io.vertx.sqlclient.Row;
import java.time.Instant;
import java.time.LocalDate;
import java.util.UUID;
import uk.co.tradersflow.platform.db.Rows;

/**
 * An invoice's reply as the API writes it, rendered once when the invoice is written and stored
 * in {@code invoices.body_json} (sql/V029), so reads write the stored text out unparsed: the
 * contract's field order, {@code INV-} numbers of at least four digits, dates as yyyy-mm-dd,
 * instants as {@link Instant#toString()}. {@code linesJson} is the lines' own stored rendering
 * ({@code lines_json}, kept by sql/V015's triggers whoever changes {@code invoice_lines}).
 */
public record InvoiceReply(
        UUID id,
        int number,
        UUID customerId,
        UUID jobId,
        String status,
        String currency,
        String linesJson,
        long totalPence,
        LocalDate dueDate,
        String paymentUrl,
        Instant paidAt,
        Instant createdAt,
        Instant updatedAt) {

    /** The columns of {@code invoice_render_pending} (sql/V029), in its order. */
    public static InvoiceReply from(Row r) {
        return new InvoiceReply(
                r.getUUID(0),
                r.getInteger(1),
                r.getUUID(2),
                r.getUUID(3),
                r.getString(4),
                r.getString(5),
                r.getString(6),
                r.getLong(7),
                r.getLocalDate(8),
                r.getString(9),
                Rows.instant(r, 10),
                Rows.instant(r, 11),
                Rows.instant(r, 12));
    }

    /**
     * A new invoice's reply, before it is written: a draft of {@code in} under the number the
     * database gave it, created at the transaction's time, its lines as the database renders them.
     * What the database would default (status, currency, no payment yet) is said here as the
     * insert says it ({@code invoice_create_many}, sql/V052).
     */
    static InvoiceReply ofNew(UUID id, InvoiceRepository.Numbered numbered, InvoiceInput in) {
        return new InvoiceReply(
                id,
                numbered.number(),
                in.customerId().orElseThrow(),
                in.jobId().orElse(null),
                InvoiceStatus.DRAFT.dbValue(),
                in.currency().orElse("GBP"),
                numbered.linesJson(),
                InvoiceLine.total(in.lines()),
                in.dueDate().orElse(null),
                null,
                null,
                numbered.createdAt(),
                numbered.createdAt());
    }

    /** The reply's JSON text. */
    public String render() {
        StringBuilder json = new StringBuilder(256 + linesJson.length());
        json.append("{\"id\":\"")
                .append(id)
                .append("\",\"number\":\"")
                .append(Invoice.formatNumber(number))
                .append("\",\"customerId\":\"")
                .append(customerId)
                .append("\",\"jobId\":")
                .append(jobId == null ? "null" : "\"" + jobId + "\"")
                .append(",\"status\":")
                .append(Json.encode(status))
                .append(",\"currency\":")
                .append(Json.encode(currency))
                .append(",\"lines\":")
                .append(linesJson)
                .append(",\"totalPence\":")
                .append(totalPence)
                .append(",\"dueDate\":")
                .append(dueDate == null ? "null" : "\"" + dueDate + "\"")
                .append(",\"paymentUrl\":")
                .append(paymentUrl == null ? "null" : Json.encode(paymentUrl))
                .append(",\"paidAt\":")
                .append(instant(paidAt))
                .append(",\"createdAt\":")
                .append(instant(createdAt))
                .append(",\"updatedAt\":")
                .append(instant(updatedAt))
                .append('}');
        return json.toString();
    }

    private static String instant(Instant t) {
        return t == null ? "null" : "\"" + t + "\"";
    }
}
