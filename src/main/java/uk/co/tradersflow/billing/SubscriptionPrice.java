package uk.co.tradersflow.billing;

import com.stripe.model.Price;
import com.stripe.model.Subscription;
import com.stripe.model.SubscriptionItem;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.List;
import java.util.Locale;

/**
 * What a subscription charges per billing interval, as its items' prices say: the amount summed
 * over the items (unit amount times quantity; Stripe has every item of a subscription share one
 * interval), the currency and the interval of the first item, and its price id. Recorded with the
 * subscription's state when its events arrive, so the owners' MRR is a sum over rows and needs no
 * Stripe call. Each part is null when Stripe does not say it (an item without a price, a price
 * without a unit amount, a one-off price).
 */
record SubscriptionPrice(String priceId, Long amountPence, String currency, String interval, Integer intervalCount) {
    static final SubscriptionPrice NONE = new SubscriptionPrice(null, null, null, null, null);

    static SubscriptionPrice of(Subscription sub) {
        List<SubscriptionItem> items = sub.getItems() == null || sub.getItems().getData() == null
                ? List.of()
                : sub.getItems().getData();
        if (items.isEmpty() || items.get(0).getPrice() == null) {
            return NONE;
        }
        Price first = items.get(0).getPrice();
        Long amount = 0L;
        for (SubscriptionItem item : items) {
            Long unit = unitAmount(item.getPrice());
            if (unit == null) {
                amount = null;
                break;
            }
            amount += unit * (item.getQuantity() == null ? 1L : item.getQuantity());
        }
        Price.Recurring recurring = first.getRecurring();
        String currency =
                first.getCurrency() == null ? null : first.getCurrency().toLowerCase(Locale.ROOT);
        String interval = recurring == null ? null : recurring.getInterval();
        Long count = recurring == null ? null : recurring.getIntervalCount();
        // Only what the columns hold (sql/V030's checks): an odd value from Stripe is left out,
        // never allowed to fail the event that carries the subscription's state.
        return new SubscriptionPrice(
                first.getId() != null && first.getId().length() <= 255 ? first.getId() : null,
                amount != null && amount >= 0 ? amount : null,
                currency != null && CURRENCY.matcher(currency).matches() ? currency : null,
                interval != null && INTERVALS.contains(interval) ? interval : null,
                count != null && count >= 1 && count <= Integer.MAX_VALUE ? count.intValue() : null);
    }

    private static final java.util.regex.Pattern CURRENCY = java.util.regex.Pattern.compile("^[a-z]{3}$");
    private static final java.util.Set<String> INTERVALS = java.util.Set.of("day", "week", "month", "year");

    private static Long unitAmount(Price price) {
        if (price == null) {
            return null;
        }
        if (price.getUnitAmount() != null) {
            return price.getUnitAmount();
        }
        BigDecimal decimal = price.getUnitAmountDecimal();
        return decimal == null
                ? null
                : decimal.setScale(0, RoundingMode.HALF_UP).longValueExact();
    }
}
