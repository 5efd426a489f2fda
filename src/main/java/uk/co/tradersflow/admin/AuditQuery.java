package uk.co.tradersflow.admin;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.error.FieldError;
import uk.co.tradersflow.platform.http.PageRequest;

/**
 * Which audit entries to read: newest first, entries before the cursor's, each filter optional:
 * one account's, one action's (exact name), one actor's, and a time range ({@code from}
 * inclusive, {@code to} exclusive; an ISO-8601 instant with its offset, or a date meaning its
 * start in UTC). Bad filter values are 422 with every bad field named; a bad {@code limit} or
 * {@code cursor} is 400, as on every list.
 */
public record AuditQuery(
        Optional<UUID> accountId,
        Optional<String> action,
        Optional<UUID> actorId,
        Optional<Instant> from,
        Optional<Instant> to,
        long beforeId,
        int limit) {
    /** What the database accepts as an action name (audit_log's CHECK). */
    private static final Pattern ACTION = Pattern.compile("^[a-z][a-z0-9_.]{1,63}$");

    /** The request's parameters, as they came (null when absent). */
    public record Params(
            String accountId, String action, String actorId, String from, String to, String cursor, String limit) {}

    public static AuditQuery of(Params p) {
        int limit = PageRequest.limitOf(p.limit());
        long before = decodeCursor(p.cursor());
        List<FieldError> errors = new ArrayList<>();
        Optional<UUID> account = uuid("accountId", p.accountId(), errors);
        Optional<UUID> actor = uuid("actorId", p.actorId(), errors);
        Optional<String> action = present(p.action());
        if (action.isPresent() && !ACTION.matcher(action.get()).matches()) {
            errors.add(new FieldError("action", "must be an action name such as auth.login"));
        }
        Optional<Instant> from = instant("from", p.from(), errors);
        Optional<Instant> to = instant("to", p.to(), errors);
        if (from.isPresent() && to.isPresent() && !from.get().isBefore(to.get())) {
            errors.add(new FieldError("to", "must be later than from"));
        }
        if (!errors.isEmpty()) {
            throw AppError.validation(errors);
        }
        return new AuditQuery(account, action, actor, from, to, before, limit);
    }

    /** One row more than the page: its presence says there is a next page. */
    int fetchSize() {
        return limit + 1;
    }

    /** The cursor that continues after the entry {@code id}. */
    static String cursorAfter(long id) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(("audit:" + id).getBytes(StandardCharsets.UTF_8));
    }

    private static long decodeCursor(String cursor) {
        if (cursor == null || cursor.isEmpty()) {
            return Long.MAX_VALUE;
        }
        try {
            String raw = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
            if (raw.startsWith("audit:")) {
                long id = Long.parseLong(raw.substring("audit:".length()));
                if (id > 0) {
                    return id;
                }
            }
        } catch (RuntimeException e) {
            // the same answer as a well-formed cursor that names no position
        }
        throw AppError.of(ErrorCode.MALFORMED_REQUEST, "cursor is not valid");
    }

    private static Optional<String> present(String param) {
        return Optional.ofNullable(param).filter(s -> !s.isEmpty());
    }

    private static Optional<UUID> uuid(String field, String param, List<FieldError> errors) {
        Optional<String> value = present(param);
        if (value.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(UUID.fromString(value.get()));
        } catch (IllegalArgumentException e) {
            errors.add(new FieldError(field, "must be a UUID"));
            return Optional.empty();
        }
    }

    private static Optional<Instant> instant(String field, String param, List<FieldError> errors) {
        Optional<String> value = present(param);
        if (value.isEmpty()) {
            return Optional.empty();
        }
        try {
            Instant at = value.get().length() == 10
                    ? LocalDate.parse(value.get()).atStartOfDay(ZoneOffset.UTC).toInstant()
                    : OffsetDateTime.parse(value.get()).toInstant();
            if (at.isBefore(EARLIEST) || at.isAfter(LATEST)) {
                errors.add(new FieldError(field, "must be between 1900 and 2999"));
                return Optional.empty();
            }
            return Optional.of(at);
        } catch (DateTimeParseException e) {
            errors.add(new FieldError(field, "must be an ISO-8601 time such as 2026-12-01T09:00:00Z, or a date"));
            return Optional.empty();
        }
    }

    private static final Instant EARLIEST = Instant.parse("1900-01-01T00:00:00Z");
    private static final Instant LATEST = Instant.parse("2999-12-31T23:59:59Z");
}
