package uk.co.tradersflow.data.invoices;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.time.Instant;
import java.time.LocalDate;
import java.util.Optional;
import java.util.UUID;
import uk.co.tradersflow.data.common.Rows;
import uk.co.tradersflow.platform.http.PageRequest;

/**
 * An invoice as clients see it, lines included (aggregated in the same query, so a page of
 * invoices with their lines is one round trip).
 */
public record Invoice(UUID id, int number, UUID customerId, Optional<UUID> jobId, String status, String currency,
                      JsonArray lines, long totalPence, Optional<LocalDate> dueDate, Optional<String> paymentUrl,
                      Optional<Instant> paidAt, int version, Instant createdAt, Instant updatedAt) {

  static Invoice from(Row r) {
    return new Invoice(r.getUUID("id"), r.getInteger("number"), r.getUUID("customer_id"),
        Optional.ofNullable(r.getUUID("job_id")), r.getString("status"), r.getString("currency"),
        lines(r), r.getLong("total_pence"),
        Optional.ofNullable(r.getLocalDate("due_date")), Optional.ofNullable(r.getString("payment_url")),
        Rows.optionalInstant(r, "paid_at"), r.getInteger("version"), Rows.instant(r, "created_at"),
        Rows.instant(r, "updated_at"));
  }

  private static JsonArray lines(Row r) {
    String[] descriptions = r.getArrayOfStrings("line_descriptions");
    JsonArray lines = new JsonArray();
    if (descriptions == null) {
      return lines;
    }
    java.math.BigDecimal[] quantities = r.getArrayOfBigDecimals("line_quantities");
    Long[] units = r.getArrayOfLongs("line_units");
    for (int i = 0; i < descriptions.length; i++) {
      lines.add(new JsonObject().put("description", descriptions[i])
          .put("quantity", quantities[i].stripTrailingZeros()).put("unitPence", units[i]));
    }
    return lines;
  }

  public static String formatNumber(int number) {
    return String.format("INV-%04d", number);
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("id", id.toString())
        .put("number", formatNumber(number))
        .put("customerId", customerId.toString())
        .put("jobId", jobId.map(UUID::toString).orElse(null))
        .put("status", status)
        .put("currency", currency)
        .put("lines", lines)
        .put("totalPence", totalPence)
        .put("dueDate", dueDate.map(LocalDate::toString).orElse(null))
        .put("paymentUrl", paymentUrl.orElse(null))
        .put("paidAt", paidAt.map(Instant::toString).orElse(null))
        .put("createdAt", createdAt.toString())
        .put("updatedAt", updatedAt.toString());
  }

  boolean isDraft() {
    return "draft".equals(status);
  }

  PageRequest.Position position() {
    return new PageRequest.Position(createdAt, id);
  }
}
