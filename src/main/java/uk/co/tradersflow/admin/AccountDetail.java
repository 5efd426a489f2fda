package uk.co.tradersflow.admin;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.BiFunction;
import uk.co.tradersflow.email.QueuedEmail;
import uk.co.tradersflow.platform.db.Rows;

/**
 * One account as the admin area shows it: the account and its subscription (status, trial end,
 * price, Stripe ids), its users (oldest first), its last emails and its last audit entries
 * (newest first).
 */
public record AccountDetail(Account account, List<User> users, List<QueuedEmail> emails, List<AuditRecord> audit) {
    /** How many emails and audit entries the detail shows. */
    static final int RECENT = 20;

    /** The account row with its billing row (absent columns when it never had one). */
    public record Account(UUID id, String businessName, String status, JsonObject dates, JsonObject subscription) {
        static Account from(Row r) {
            JsonObject price = r.getString("price_id") == null && r.getLong("price_amount_pence") == null
                    ? null
                    : new JsonObject()
                            .put("id", r.getString("price_id"))
                            .put("amountPence", r.getLong("price_amount_pence"))
                            .put(
                                    "currency",
                                    Optional.ofNullable(r.getString("price_currency"))
                                            .map(c -> c.toUpperCase(java.util.Locale.ROOT))
                                            .orElse(null))
                            .put("interval", r.getString("price_interval"))
                            .put("intervalCount", r.getInteger("price_interval_count"))
                            .put("monthlyPence", r.getLong("monthly_pence"));
            JsonObject subscription = new JsonObject()
                    .put("status", r.getString("subscription_status"))
                    .put("stripeStatus", r.getString("stripe_status"))
                    .put("trialEnd", time(r, "trial_end"))
                    .put("currentPeriodEnd", time(r, "current_period_end"))
                    .put("cancelAtPeriodEnd", r.getBoolean("cancel_at_period_end"))
                    .put("payingSince", time(r, "paying_since"))
                    .put("cancelledAt", time(r, "cancelled_at"))
                    .put("price", price)
                    .put("stripeCustomerId", r.getString("stripe_customer_id"))
                    .put("stripeSubscriptionId", r.getString("subscription_id"))
                    .put("stripeConnectAccountId", r.getString("connect_account_id"));
            JsonObject dates = new JsonObject()
                    .put("createdAt", time(r, "created_at"))
                    .put("closedAt", time(r, "closed_at"))
                    .put("deleteAfter", time(r, "delete_after"))
                    .put("purgedAt", time(r, "purged_at"));
            return new Account(
                    r.getUUID("id"), r.getString("business_name"), r.getString("status"), dates, subscription);
        }
    }

    /** A user of the account; {@code lastSignInAt} is the newest session they opened themselves. */
    public record User(
            UUID id, String email, Optional<Instant> verifiedAt, Instant createdAt, Optional<Instant> lastSignInAt) {
        static User from(Row r) {
            return new User(
                    r.getUUID("id"),
                    r.getString("email"),
                    Rows.optionalInstant(r, "email_verified_at"),
                    Rows.instant(r, "created_at"),
                    Rows.optionalInstant(r, "last_sign_in_at"));
        }
    }

    /**
     * The reply; {@code role} names each user's role in the admin area from its email and whether
     * it is verified ({@code owner}, {@code support} or {@code user}).
     */
    public JsonObject toJson(BiFunction<String, Boolean, String> role) {
        JsonArray userItems = new JsonArray();
        users.forEach(u -> userItems.add(new JsonObject()
                .put("id", u.id().toString())
                .put("email", u.email())
                .put("verified", u.verifiedAt().isPresent())
                .put("role", role.apply(u.email(), u.verifiedAt().isPresent()))
                .put("createdAt", u.createdAt().toString())
                .put("lastSignInAt", u.lastSignInAt().map(Instant::toString).orElse(null))));
        JsonArray emailItems = new JsonArray();
        emails.forEach(e -> emailItems.add(e.toJson()));
        JsonArray auditItems = new JsonArray();
        audit.forEach(a -> auditItems.add(a.toJson()));
        return new JsonObject()
                .put("id", account.id().toString())
                .put("businessName", account.businessName())
                .put("status", account.status())
                .mergeIn(account.dates())
                .put("subscription", account.subscription())
                .put("users", userItems)
                .put("recentEmails", emailItems)
                .put("recentAudit", auditItems);
    }

    private static String time(Row r, String column) {
        Instant at = Rows.instant(r, column);
        return at == null ? null : at.toString();
    }
}
