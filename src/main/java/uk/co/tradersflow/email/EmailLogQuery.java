package uk.co.tradersflow.email;

import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.platform.http.PageRequest;

/**
 * Which part of the email log to read: a page, optionally only one recipient's messages or only
 * those in one status. Built through {@link #of}, which normalises the recipient (addresses are
 * stored lower-case) and refuses an unknown status, whoever asks.
 */
public record EmailLogQuery(PageRequest page, Optional<String> recipient, Optional<String> status) {
    static final Set<String> STATUSES = Set.of("queued", "sending", "sent", "failed", "suppressed");

    public EmailLogQuery {
        if (status.isPresent() && !STATUSES.contains(status.get())) {
            throw AppError.of(ErrorCode.MALFORMED_REQUEST, "status must be one of " + String.join(", ", STATUSES));
        }
    }

    /** Blank or absent filters mean "any". */
    public static EmailLogQuery of(PageRequest page, String recipient, String status) {
        return new EmailLogQuery(
                page,
                recipient == null || recipient.isBlank()
                        ? Optional.empty()
                        : Optional.of(recipient.trim().toLowerCase(Locale.ROOT)),
                status == null || status.isEmpty() ? Optional.empty() : Optional.of(status));
    }
}
