package uk.co.tradersflow.admin;

import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;
import uk.co.tradersflow.platform.db.Rows;
import uk.co.tradersflow.platform.http.PageRequest;

/** One row of the accounts list: the account, its first user's email, and its subscription's status. */
public record AccountSummary(
        UUID id,
        String businessName,
        String status,
        Instant createdAt,
        Optional<String> email,
        long users,
        String subscriptionStatus,
        Optional<Instant> trialEnd,
        Optional<Instant> currentPeriodEnd) {

    static AccountSummary from(Row r) {
        return new AccountSummary(
                r.getUUID("id"),
                r.getString("business_name"),
                r.getString("status"),
                Rows.instant(r, "created_at"),
                Optional.ofNullable(r.getString("email")),
                r.getLong("user_count"),
                r.getString("subscription_status"),
                Rows.optionalInstant(r, "trial_end"),
                Rows.optionalInstant(r, "current_period_end"));
    }

    public JsonObject toJson() {
        return new JsonObject()
                .put("id", id.toString())
                .put("businessName", businessName)
                .put("status", status)
                .put("email", email.orElse(null))
                .put("users", users)
                .put("createdAt", createdAt.toString())
                .put(
                        "subscription",
                        new JsonObject()
                                .put("status", subscriptionStatus)
                                .put("trialEnd", trialEnd.map(Instant::toString).orElse(null))
                                .put(
                                        "currentPeriodEnd",
                                        currentPeriodEnd.map(Instant::toString).orElse(null)));
    }

    PageRequest.Position position() {
        return new PageRequest.Position(createdAt, id);
    }
}
