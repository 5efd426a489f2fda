package uk.co.tradersflow.data.invoices;

import com.fasterxml.jackson.core.JsonGenerator;
import io.vertx.sqlclient.Row;
import java.io.IOException;
import java.time.Instant;
import java.time.LocalDate;
import java.util.Optional;
import java.util.UUID;
import uk.co.tradersflow.data.common.Rows;
import uk.co.tradersflow.platform.http.JsonBody;
import uk.co.tradersflow.platform.http.PageRequest;

/**
 * An invoice as clients see it. Its lines come as the database rendered them ({@code lines_json},
 * kept by triggers from {@code invoice_lines}): JSON text that is written out unparsed.
 */
public record Invoice(UUID id, int number, UUID customerId, Optional<UUID> jobId, String status, String currency,
                      String linesJson, long totalPence, Optional<LocalDate> dueDate, Optional<String> paymentUrl,
                      Optional<Instant> paidAt, int version, Instant createdAt, Instant updatedAt) implements JsonBody {

  /** The columns {@link #from} reads, for the queries that feed it. */
  static final String COLUMNS = """
      id, number, customer_id, job_id, status, currency, lines_json::text AS lines_json, total_pence, due_date,
      payment_url, paid_at, version, created_at, updated_at""";

  static Invoice from(Row r) {
    return new Invoice(r.getUUID(0), r.getInteger(1), r.getUUID(2), Optional.ofNullable(r.getUUID(3)),
        r.getString(4), r.getString(5), r.getString(6), r.getLong(7), Optional.ofNullable(r.getLocalDate(8)),
        Optional.ofNullable(r.getString(9)), Optional.ofNullable(Rows.instant(r, 10)), r.getInteger(11),
        Rows.instant(r, 12), Rows.instant(r, 13));
  }

  /** INV-0001 …: four digits at least, more once an account passes 9,999 invoices. */
  public static String formatNumber(int number) {
    if (number < 0 || number > 9999) {
      return "INV-" + number;
    }
    // Written out by hand: every invoice on every page has its number formatted.
    char[] text = {'I', 'N', 'V', '-', '0', '0', '0', '0'};
    for (int i = text.length - 1; number > 0; i--, number /= 10) {
      text[i] = (char) ('0' + number % 10);
    }
    return new String(text);
  }

  @Override
  public void writeTo(JsonGenerator json) throws IOException {
    json.writeStartObject();
    json.writeStringField("id", id.toString());
    json.writeStringField("number", formatNumber(number));
    json.writeStringField("customerId", customerId.toString());
    JsonBody.stringOrNull(json, "jobId", jobId.orElse(null));
    json.writeStringField("status", status);
    json.writeStringField("currency", currency);
    json.writeFieldName("lines");
    json.writeRawValue(linesJson);
    json.writeNumberField("totalPence", totalPence);
    JsonBody.stringOrNull(json, "dueDate", dueDate.orElse(null));
    JsonBody.stringOrNull(json, "paymentUrl", paymentUrl.orElse(null));
    JsonBody.instantOrNull(json, "paidAt", paidAt.orElse(null));
    JsonBody.instantOrNull(json, "createdAt", createdAt);
    JsonBody.instantOrNull(json, "updatedAt", updatedAt);
    json.writeEndObject();
  }

  boolean isDraft() {
    return "draft".equals(status);
  }

  PageRequest.Position position() {
    return new PageRequest.Position(createdAt, id);
  }
}
