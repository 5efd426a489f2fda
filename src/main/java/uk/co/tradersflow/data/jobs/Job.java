package uk.co.tradersflow.data.jobs;

import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;
import uk.co.tradersflow.platform.db.Rows;
import uk.co.tradersflow.platform.http.PageRequest;

/** A piece of work for a customer: quoted, scheduled, under way, done or cancelled. */
public record Job(
        UUID id,
        Optional<UUID> customerId,
        String title,
        Optional<String> description,
        String status,
        Optional<Instant> scheduledFor,
        Instant createdAt,
        Instant updatedAt) {

    static Job from(Row r) {
        return new Job(
                r.getUUID("id"),
                Optional.ofNullable(r.getUUID("customer_id")),
                r.getString("title"),
                Optional.ofNullable(r.getString("description")),
                r.getString("status"),
                Rows.optionalInstant(r, "scheduled_for"),
                Rows.instant(r, "created_at"),
                Rows.instant(r, "updated_at"));
    }

    public JsonObject toJson() {
        return new JsonObject()
                .put("id", id.toString())
                .put("customerId", customerId.map(UUID::toString).orElse(null))
                .put("title", title)
                .put("description", description.orElse(null))
                .put("status", status)
                .put("scheduledFor", scheduledFor.map(Instant::toString).orElse(null))
                .put("createdAt", createdAt.toString())
                .put("updatedAt", updatedAt.toString());
    }

    PageRequest.Position position() {
        return new PageRequest.Position(createdAt, id);
    }
}
