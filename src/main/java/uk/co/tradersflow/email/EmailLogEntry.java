package uk.co.tradersflow.email;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.util.Optional;
import java.util.UUID;
import uk.co.tradersflow.platform.http.PageRequest;

/** One message of the email log, with the provider's events about it in the order they happened. */
public record EmailLogEntry(QueuedEmail email, Optional<UUID> accountId, JsonArray events) {

    static EmailLogEntry from(Row r) {
        Object events = r.getValue("events");
        return new EmailLogEntry(
                QueuedEmail.from(r),
                Optional.ofNullable(r.getUUID("account_id")),
                events instanceof JsonArray array ? array : new JsonArray());
    }

    /** The message's fields in the outbox's order, {@code accountId} second, then {@code events}. */
    public JsonObject toJson() {
        return new JsonObject()
                .put("id", email.id().toString())
                .put("accountId", accountId.map(UUID::toString).orElse(null))
                .mergeIn(email.toJson())
                .put("events", events);
    }

    public PageRequest.Position position() {
        return new PageRequest.Position(email.createdAt(), email.id());
    }
}
