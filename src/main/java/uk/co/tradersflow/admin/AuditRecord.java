package uk.co.tradersflow.admin;

import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;
import uk.co.tradersflow.platform.db.Rows;

/**
 * One audit entry as the admin area shows it: who ({@code actorType}, {@code actorId}, and the
 * owner behind an impersonated session as {@code impersonatedBy}), what, against which account
 * and object, when, from where, and its place in the hash chain ({@code prevHash}, {@code hash};
 * null until the sealer has chained it).
 */
public record AuditRecord(
        long id,
        Instant occurredAt,
        Optional<UUID> accountId,
        String actorType,
        Optional<UUID> actorId,
        Optional<UUID> impersonatedBy,
        String action,
        Optional<String> targetType,
        Optional<String> targetId,
        Optional<String> ip,
        Optional<String> userAgent,
        JsonObject details,
        Optional<String> prevHash,
        Optional<String> hash) {

    static AuditRecord from(Row r) {
        Object details = r.getValue("details");
        return new AuditRecord(
                r.getLong("id"),
                Rows.instant(r, "occurred_at"),
                Optional.ofNullable(r.getUUID("account_id")),
                r.getString("actor_type"),
                Optional.ofNullable(r.getUUID("actor_id")),
                Optional.ofNullable(r.getUUID("impersonator_id")),
                r.getString("action"),
                Optional.ofNullable(r.getString("target_type")),
                Optional.ofNullable(r.getString("target_id")),
                Optional.ofNullable(r.getString("ip")),
                Optional.ofNullable(r.getString("user_agent")),
                details instanceof JsonObject object ? object : new JsonObject(),
                Optional.ofNullable(r.getString("prev_hash")),
                Optional.ofNullable(r.getString("hash")));
    }

    public JsonObject toJson() {
        return new JsonObject()
                .put("id", id)
                .put("occurredAt", occurredAt.toString())
                .put("accountId", accountId.map(UUID::toString).orElse(null))
                .put("actorType", actorType)
                .put("actorId", actorId.map(UUID::toString).orElse(null))
                .put("impersonatedBy", impersonatedBy.map(UUID::toString).orElse(null))
                .put("action", action)
                .put("targetType", targetType.orElse(null))
                .put("targetId", targetId.orElse(null))
                .put("ip", ip.orElse(null))
                .put("userAgent", userAgent.orElse(null))
                .put("details", details)
                .put("prevHash", prevHash.orElse(null))
                .put("hash", hash.orElse(null));
    }
}
