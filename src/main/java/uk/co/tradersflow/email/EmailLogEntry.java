package uk.co.tradersflow.email;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;
import uk.co.tradersflow.platform.db.Rows;
import uk.co.tradersflow.platform.http.PageRequest;

/** One message of the email log, with the provider's events about it in the order they happened. */
public record EmailLogEntry(
        UUID id,
        Optional<UUID> accountId,
        String template,
        String recipient,
        String status,
        int attempts,
        Optional<String> lastError,
        Instant createdAt,
        Optional<Instant> sentAt,
        JsonArray events) {

    static EmailLogEntry from(Row r) {
        Object events = r.getValue("events");
        return new EmailLogEntry(
                r.getUUID("id"),
                Optional.ofNullable(r.getUUID("account_id")),
                r.getString("template"),
                r.getString("recipient"),
                r.getString("status"),
                r.getInteger("attempts"),
                Optional.ofNullable(r.getString("last_error")),
                Rows.instant(r, "created_at"),
                Rows.optionalInstant(r, "sent_at"),
                events instanceof JsonArray array ? array : new JsonArray());
    }

    public JsonObject toJson() {
        return new JsonObject()
                .put("id", id.toString())
                .put("accountId", accountId.map(UUID::toString).orElse(null))
                .put("template", template)
                .put("recipient", recipient)
                .put("status", status)
                .put("attempts", attempts)
                .put("lastError", lastError.orElse(null))
                .put("createdAt", createdAt.toString())
                .put("sentAt", sentAt.map(Instant::toString).orElse(null))
                .put("events", events);
    }

    public PageRequest.Position position() {
        return new PageRequest.Position(createdAt, id);
    }
}
