package uk.co.tradersflow.data.customers;

import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;
import uk.co.tradersflow.platform.db.Rows;
import uk.co.tradersflow.platform.http.PageRequest;

/** A tradesperson's customer. */
public record Customer(
        UUID id,
        String name,
        Optional<String> email,
        Optional<String> phone,
        Optional<String> address,
        Optional<String> notes,
        Instant createdAt,
        Instant updatedAt) {

    static Customer from(Row r) {
        return new Customer(
                r.getUUID("id"),
                r.getString("name"),
                Optional.ofNullable(r.getString("email")),
                Optional.ofNullable(r.getString("phone")),
                Optional.ofNullable(r.getString("address")),
                Optional.ofNullable(r.getString("notes")),
                Rows.instant(r, "created_at"),
                Rows.instant(r, "updated_at"));
    }

    public JsonObject toJson() {
        return new JsonObject()
                .put("id", id.toString())
                .put("name", name)
                .put("email", email.orElse(null))
                .put("phone", phone.orElse(null))
                .put("address", address.orElse(null))
                .put("notes", notes.orElse(null))
                .put("createdAt", createdAt.toString())
                .put("updatedAt", updatedAt.toString());
    }

    PageRequest.Position position() {
        return new PageRequest.Position(createdAt, id);
    }
}
