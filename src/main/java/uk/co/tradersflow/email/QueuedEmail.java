package uk.co.tradersflow.email;

import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;
import uk.co.tradersflow.platform.db.Rows;

/**
 * An email as the outbox holds it (its {@code email_outbox} row's columns): what the email log and
 * the admin area's account page show of each message.
 */
public record QueuedEmail(
        UUID id,
        String template,
        String recipient,
        String status,
        int attempts,
        Optional<String> lastError,
        Instant createdAt,
        Optional<Instant> sentAt) {

    /** From a row with the columns of {@code email_outbox} named as they are there. */
    public static QueuedEmail from(Row r) {
        return new QueuedEmail(
                r.getUUID("id"),
                r.getString("template"),
                r.getString("recipient"),
                r.getString("status"),
                r.getInteger("attempts"),
                Optional.ofNullable(r.getString("last_error")),
                Rows.instant(r, "created_at"),
                Rows.optionalInstant(r, "sent_at"));
    }

    public JsonObject toJson() {
        return new JsonObject()
                .put("id", id.toString())
                .put("template", template)
                .put("recipient", recipient)
                .put("status", status)
                .put("attempts", attempts)
                .put("lastError", lastError.orElse(null))
                .put("createdAt", createdAt.toString())
                .put("sentAt", sentAt.map(Instant::toString).orElse(null));
    }
}
