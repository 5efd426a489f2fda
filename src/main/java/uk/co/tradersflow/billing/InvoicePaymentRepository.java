package uk.co.tradersflow.billing;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.LocalDate;
import java.util.Optional;
import java.util.UUID;
import uk.co.tradersflow.error.AppError;

/**
 * What sending an invoice reads (the invoice with its customer, business name and the current
 * version's payment link; its lines for the email) and the payment links billing records. It
 * never writes {@code invoices}: that is {@code data.invoices.InvoiceService}'s.
 */
final class InvoicePaymentRepository {
    private static final String INVOICE =
            """
      SELECT i.id, i.number, i.status, i.currency, i.total_pence, i.due_date, i.version,
             c.name AS customer_name, c.email AS customer_email, a.business_name,
             (SELECT l.url FROM invoice_payment_links l WHERE l.invoice_id = i.id AND l.invoice_version = i.version) AS link_url
        FROM invoices i JOIN customers c ON c.id = i.customer_id AND c.account_id = i.account_id
        JOIN accounts a ON a.id = i.account_id
       WHERE i.id = $1""";
    private static final String LINES =
            """
      SELECT description, quantity, unit_pence FROM invoice_lines WHERE invoice_id = $1 ORDER BY position""";
    // The insert's trigger (sql/V011) locks the invoice and records a link made for a version an
    // edit has meanwhile replaced as born retired.
    private static final String SAVE_LINK =
            """
      INSERT INTO invoice_payment_links (invoice_id, invoice_version, payment_link_id, url) VALUES ($1, $2, $3, $4)
      ON CONFLICT DO NOTHING""";

    /** An invoice as sending sees it. {@code linkUrl}: the current version's payment link, if made. */
    record Sendable(
            UUID id,
            int number,
            String status,
            String currency,
            long totalPence,
            Optional<LocalDate> dueDate,
            int version,
            String customerName,
            Optional<String> customerEmail,
            String businessName,
            Optional<String> linkUrl) {
        static Sendable from(Row r) {
            return new Sendable(
                    r.getUUID("id"),
                    r.getInteger("number"),
                    r.getString("status"),
                    r.getString("currency"),
                    r.getLong("total_pence"),
                    Optional.ofNullable(r.getLocalDate("due_date")),
                    r.getInteger("version"),
                    r.getString("customer_name"),
                    Optional.ofNullable(r.getString("customer_email")).filter(e -> !e.isBlank()),
                    r.getString("business_name"),
                    Optional.ofNullable(r.getString("link_url")));
        }
    }

    /** 404 when there is no such invoice in the caller's account (RLS). */
    Future<Sendable> find(SqlConnection tx, UUID id) {
        return tx.preparedQuery(INVOICE)
                .execute(Tuple.of(id))
                .compose(rows -> rows.size() == 0
                        ? Future.failedFuture(AppError.notFound())
                        : Future.succeededFuture(Sendable.from(rows.iterator().next())));
    }

    /** The lines as the invoice email shows them, quantities without trailing zeros. */
    Future<JsonArray> emailLines(SqlConnection tx, UUID id) {
        return tx.preparedQuery(LINES).execute(Tuple.of(id)).map(lines -> {
            JsonArray items = new JsonArray();
            lines.forEach(l -> items.add(new JsonObject()
                    .put("description", l.getString("description"))
                    .put(
                            "quantity",
                            l.getBigDecimal("quantity").stripTrailingZeros().toPlainString())
                    .put("unitPence", l.getLong("unit_pence"))));
            return items;
        });
    }

    Future<Void> saveLink(SqlConnection tx, UUID id, int version, String linkId, String url) {
        return tx.preparedQuery(SAVE_LINK)
                .execute(Tuple.of(id, version, linkId, url))
                .mapEmpty();
    }
}
