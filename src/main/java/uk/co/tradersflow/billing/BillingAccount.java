package uk.co.tradersflow.billing;

import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.time.OffsetDateTime;
import java.util.Optional;
import java.util.UUID;

/** An account's Stripe references and statuses: what we keep of Stripe's state, nothing more. */
public record BillingAccount(
        UUID accountId,
        Optional<String> customerId,
        Optional<String> subscriptionId,
        String status,
        Optional<OffsetDateTime> trialEnd,
        Optional<OffsetDateTime> currentPeriodEnd,
        boolean cancelAtPeriodEnd,
        Optional<String> connectAccountId,
        boolean chargesEnabled,
        boolean payoutsEnabled) {

    public static BillingAccount none(UUID accountId) {
        return new BillingAccount(
                accountId,
                Optional.empty(),
                Optional.empty(),
                "none",
                Optional.empty(),
                Optional.empty(),
                false,
                Optional.empty(),
                false,
                false);
    }

    static BillingAccount from(Row r) {
        return new BillingAccount(
                r.getUUID("account_id"),
                Optional.ofNullable(r.getString("stripe_customer_id")),
                Optional.ofNullable(r.getString("subscription_id")),
                r.getString("subscription_status"),
                Optional.ofNullable(r.getOffsetDateTime("trial_end")),
                Optional.ofNullable(r.getOffsetDateTime("current_period_end")),
                r.getBoolean("cancel_at_period_end"),
                Optional.ofNullable(r.getString("connect_account_id")),
                r.getBoolean("charges_enabled"),
                r.getBoolean("payouts_enabled"));
    }

    public JsonObject subscriptionJson() {
        return new JsonObject()
                .put("status", status)
                .put("trialEnd", trialEnd.map(BillingAccount::iso).orElse(null))
                .put(
                        "currentPeriodEnd",
                        currentPeriodEnd.map(BillingAccount::iso).orElse(null))
                .put("cancelAtPeriodEnd", cancelAtPeriodEnd);
    }

    public JsonObject connectJson() {
        return new JsonObject()
                .put("connected", connectAccountId.isPresent())
                .put("chargesEnabled", chargesEnabled)
                .put("payoutsEnabled", payoutsEnabled);
    }

    static String iso(OffsetDateTime t) {
        return t.toInstant().toString();
    }
}
