package uk.co.tradersflow.storage;

import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;
import uk.co.tradersflow.platform.db.Rows;
import uk.co.tradersflow.platform.http.PageRequest;

/** A stored photo or document as clients see it; the key material never leaves the server. */
public record Document(UUID id, String filename, FileType type, long size, Optional<UUID> jobId, Instant createdAt) {

    static Document from(Row r) {
        return new Document(
                r.getUUID("id"),
                r.getString("filename"),
                FileType.fromContentType(r.getString("content_type")).orElseThrow(),
                r.getLong("size_bytes"),
                Optional.ofNullable(r.getUUID("job_id")),
                Rows.instant(r, "created_at"));
    }

    public JsonObject toJson() {
        return new JsonObject()
                .put("id", id.toString())
                .put("filename", filename)
                .put("contentType", type.contentType())
                .put("size", size)
                .put("jobId", jobId.map(UUID::toString).orElse(null))
                .put("createdAt", createdAt.toString());
    }

    PageRequest.Position position() {
        return new PageRequest.Position(createdAt, id);
    }
}
