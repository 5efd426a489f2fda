package uk.co.tradersflow.admin;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.FieldError;
import uk.co.tradersflow.platform.http.PageRequest;

/**
 * Which accounts to list: a page (newest first), optionally only those whose business name or
 * one of whose users' emails contains {@code search} (any case), and only those in one status.
 * {@code status} is a subscription status ({@code none}, {@code trialing}, {@code active},
 * {@code past_due}, {@code cancelled}) or an account status ({@code suspended}, {@code closed}).
 * Built through {@link #of}, which refuses bad values with 422 and the fields named.
 */
public record AccountQuery(
        PageRequest page,
        Optional<String> search,
        Optional<String> subscriptionStatus,
        Optional<String> accountStatus) {
    static final Set<String> SUBSCRIPTION_STATUSES = Set.of("none", "trialing", "active", "past_due", "cancelled");
    static final Set<String> ACCOUNT_STATUSES = Set.of("suspended", "closed");
    static final int MAX_SEARCH = 200;

    /** Blank or absent filters mean "any". */
    public static AccountQuery of(PageRequest page, String query, String status) {
        List<FieldError> errors = new ArrayList<>();
        Optional<String> search = Optional.ofNullable(query).map(String::trim).filter(q -> !q.isEmpty());
        if (search.isPresent() && search.get().length() > MAX_SEARCH) {
            errors.add(new FieldError("query", "at most " + MAX_SEARCH + " characters"));
        }
        Optional<String> wanted = Optional.ofNullable(status).filter(s -> !s.isEmpty());
        if (wanted.isPresent()
                && !SUBSCRIPTION_STATUSES.contains(wanted.get())
                && !ACCOUNT_STATUSES.contains(wanted.get())) {
            errors.add(new FieldError(
                    "status", "must be one of none, trialing, active, past_due, cancelled, suspended, closed"));
        }
        if (!errors.isEmpty()) {
            throw AppError.validation(errors);
        }
        return new AccountQuery(
                page,
                search,
                wanted.filter(SUBSCRIPTION_STATUSES::contains),
                wanted.filter(ACCOUNT_STATUSES::contains));
    }

    /** The search as a LIKE pattern that matches it anywhere, its own {@code % _ \} taken literally. */
    Optional<String> pattern() {
        return search.map(s -> "%" + s.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%");
    }
}
