package uk.co.tradersflow.data.invoices;

import io.vertx.sqlclient.Row;
import java.time.Instant;
import java.util.Locale;
import java.util.UUID;
import uk.co.tradersflow.platform.db.Rows;
import uk.co.tradersflow.platform.http.PageRequest;

/**
 * An invoice: what the routes decide with (its status, its number and total for the audit log)
 * and its reply, {@code json}, as stored with it ({@code body_json}, rendered by
 * {@link InvoiceReply} on every write, sql/V029). The reply is written out as it is, unparsed.
 */
public record Invoice(UUID id, int number, String status, long totalPence, Instant createdAt, String json) {

    /** The columns {@link #from} reads, for the queries that feed it. */
    static final String COLUMNS = "id, number, status, total_pence, created_at, body_json";

    static Invoice from(Row r) {
        return new Invoice(
                r.getUUID(0), r.getInteger(1), r.getString(2), r.getLong(3), Rows.instant(r, 4), r.getString(5));
    }

    /** INV-0001 …: four digits at least, more once an account passes 9,999 invoices. */
    public static String formatNumber(int number) {
        return String.format(Locale.ROOT, "INV-%04d", number);
    }

    boolean isDraft() {
        return "draft".equals(status);
    }

    PageRequest.Position position() {
        return new PageRequest.Position(createdAt, id);
    }
}
