package uk.co.tradersflow.admin;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The business figures, all read from the database (no Stripe call):
 *
 * <ul>
 *   <li>signups: accounts created per UTC day over the window, today included, every day present;
 *   <li>accounts by status ({@code active}, {@code suspended}, {@code closed}) and by subscription
 *       status ({@code none} for an account that never subscribed);
 *   <li>MRR: the monthly amounts of the prices recorded from Stripe for subscriptions being paid
 *       for ({@code active} and {@code past_due}; trials pay nothing yet), per currency, with
 *       {@code mrrPence} the GBP figure;
 *   <li>churn over the window: of the subscriptions paying when the window began, the share
 *       cancelled within it ({@code cancelled / payingAtStart}; 0 when none was paying). Every
 *       cancellation in the window, trials included, is given beside it for reference.
 * </ul>
 *
 * <p>{@code generatedAt} is the moment they describe: they come from a summary stored every 30 s
 * (V037), at most {@link AdminService#FIGURES_MAX_AGE} old when served.
 */
public record Analytics(
        Instant generatedAt,
        int windowDays,
        List<DayCount> signups,
        Map<String, Long> accountsByStatus,
        Map<String, Long> subscriptionsByStatus,
        Map<String, Long> mrrByCurrency,
        Churn churn) {
    /** The currency {@code mrrPence} is given in: the contract's default. */
    static final String CURRENCY = "GBP";

    public record DayCount(LocalDate day, long count) {}

    public record Churn(long payingAtStart, long cancelled, long cancellationsInWindow) {
        double rate() {
            return payingAtStart == 0 ? 0.0 : (double) cancelled / payingAtStart;
        }
    }

    public JsonObject toJson() {
        JsonArray perDay = new JsonArray();
        signups.forEach(
                d -> perDay.add(new JsonObject().put("date", d.day().toString()).put("count", d.count())));
        long accounts =
                accountsByStatus.values().stream().mapToLong(Long::longValue).sum();
        JsonObject byStatus = new JsonObject().put("total", accounts);
        for (String status : List.of("active", "suspended", "closed")) {
            byStatus.put(status, accountsByStatus.getOrDefault(status, 0L));
        }
        long subscribed = subscriptionsByStatus.values().stream()
                .mapToLong(Long::longValue)
                .sum();
        JsonObject subscriptions = new JsonObject().put("none", accounts - subscribed);
        for (String status : List.of("trialing", "active", "past_due", "cancelled")) {
            subscriptions.put(status, subscriptionsByStatus.getOrDefault(status, 0L));
        }
        JsonObject mrr = new JsonObject();
        new TreeMap<>(mrrByCurrency).forEach(mrr::put);
        return new JsonObject()
                .put("generatedAt", generatedAt.toString())
                .put("windowDays", windowDays)
                .put(
                        "signups",
                        new JsonObject()
                                .put(
                                        "total",
                                        signups.stream()
                                                .mapToLong(DayCount::count)
                                                .sum())
                                .put("perDay", perDay))
                .put("accounts", byStatus)
                .put("subscriptions", subscriptions)
                .put("mrrPence", mrrByCurrency.getOrDefault(CURRENCY, 0L))
                .put("currency", CURRENCY)
                .put("mrrByCurrency", mrr)
                .put(
                        "churn",
                        new JsonObject()
                                .put("payingAtStart", churn.payingAtStart())
                                .put("cancelled", churn.cancelled())
                                .put("rate", churn.rate())
                                .put("cancellationsInWindow", churn.cancellationsInWindow()));
    }
}
