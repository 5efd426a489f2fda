package uk.co.tradersflow.audit;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.Optional;

/**
 * What the audit chain held at one moment, as one instance saw it committed: the newest sealed
 * entry ({@code entryId}, empty while nothing is sealed), its {@code hash}, and how many entries
 * the chain held up to it ({@code entries}, the entry's {@code seal_seq}). {@code key} names the
 * checkpoint across instances ({@code at-<epoch second of its slot>} for the periodic ones,
 * {@code stop-<epoch ms>-<instance>} for one taken at shutdown); it is also its object name.
 */
public record Checkpoint(
        String key, String instance, Optional<Long> entryId, long entries, Optional<String> hash, Instant takenAt) {

    /** The signed fields, in the signed payload and (for people reading the file) beside it on the line. */
    JsonObject toJson() {
        return new JsonObject()
                .put("key", key)
                .put("instance", instance)
                .put("entryId", entryId.orElse(null))
                .put("entries", entries)
                .put("hash", hash.orElse(null))
                .put("takenAt", takenAt.toString());
    }

    /** The fields of a signed payload; throws on anything malformed. */
    static Checkpoint fromJson(JsonObject json) {
        return new Checkpoint(
                requireText(json, "key"),
                requireText(json, "instance"),
                Optional.ofNullable(json.getLong("entryId")),
                json.getLong("entries"),
                Optional.ofNullable(json.getString("hash")),
                Instant.parse(json.getString("takenAt")));
    }

    private static String requireText(JsonObject json, String field) {
        String value = json.getString(field);
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException("checkpoint without " + field);
        }
        return value;
    }

    /** The one line a sink stores: the readable fields and {@code jws}, which alone is believed. */
    String line(String jws) {
        return toJson().put("jws", jws).encode();
    }
}
