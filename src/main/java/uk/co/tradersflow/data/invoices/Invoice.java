package uk.co.tradersflow.data.invoices;

import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Row;
import java.time.Instant;
import java.util.UUID;
import uk.co.tradersflow.platform.db.Rows;
import uk.co.tradersflow.platform.http.PageRequest;

/**
 * An invoice: what the routes decide with (its status, its number and total for the audit log)
 * and its reply, {@code json}, as stored with it ({@code body_json}, rendered by
 * {@link InvoiceReply} on every write, sql/V029). The reply is written out as it is, unparsed.
 */
public record Invoice(UUID id, int number, String status, long totalPence, Instant createdAt, Buffer json) {

    /**
     * The columns {@link #from} reads, for the queries that feed it. The reply comes as its UTF-8
     * bytes ({@code bytea}), which go into the response as they arrive: read as {@code text} it was
     * decoded into a String, joined, and encoded back to bytes, four passes over each page.
     */
    static final String COLUMNS = "id, number, status, total_pence, created_at, convert_to(body_json, 'UTF8')";

    static Invoice from(Row r) {
        return new Invoice(
                r.getUUID(0), r.getInteger(1), r.getString(2), r.getLong(3), Rows.instant(r, 4), r.getBuffer(5));
    }

    /**
     * INV-0001 …: four digits at least, more once an account passes 9,999 invoices. Padded by hand:
     * String.format parsed its pattern on every call, 4 % of the server's CPU in a creation.
     */
    public static String formatNumber(int number) {
        if (number < 0) {
            throw new IllegalArgumentException("invoice numbers are not negative: " + number);
        }
        String digits = Integer.toString(number);
        return switch (digits.length()) {
            case 1 -> "INV-000" + digits;
            case 2 -> "INV-00" + digits;
            case 3 -> "INV-0" + digits;
            default -> "INV-" + digits;
        };
    }

    boolean isDraft() {
        return "draft".equals(status);
    }

    PageRequest.Position position() {
        return new PageRequest.Position(createdAt, id);
    }
}
