package uk.co.tradersflow.platform.http;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.time.Instant;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Function;
import java.util.regex.Pattern;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.error.FieldError;

/**
 * Reads a JSON request body field by field, collecting every problem before answering, so a
 * client gets all its field errors (422) in one round. Unknown fields are ignored, as the
 * contract says. For PATCH, {@link #has} tells "absent" (leave alone) from "null" (clear).
 */
public final class JsonInput {
    // Possessive quantifiers and dot-separated labels: linear time, no backtracking on hostile input.
    private static final Pattern EMAIL =
            Pattern.compile("^[^@\\s\\p{Cntrl}]{1,64}+@[^@\\s\\p{Cntrl}.]++(?:\\.[^@\\s\\p{Cntrl}.]++)++$");

    // Years 1900 to 2999, two-digit month and day; LocalDate.parse then rejects days a month lacks.
    private static final Pattern CALENDAR_DATE = Pattern.compile("^(19|2[0-9])[0-9]{2}-[0-9]{2}-[0-9]{2}$");
    // Compiled once: String.matches compiled it again for every request with a body.
    private static final Pattern JSON_MEDIA_TYPE = Pattern.compile("application/(.+\\+)?json\\s*(;.*)?");
    private static final String DATE_MESSAGE = "must be a date (YYYY-MM-DD) from the year 1900 to 2999";

    private static final Instant EARLIEST = Instant.parse("1900-01-01T00:00:00Z");
    private static final Instant LATEST = Instant.parse("+10000-01-01T00:00:00Z");

    private final JsonObject json;
    private final String prefix;
    private final List<FieldError> errors;

    private JsonInput(JsonObject json, String prefix, List<FieldError> errors) {
        this.json = json;
        this.prefix = prefix;
        this.errors = errors;
    }

    /** The body as a JSON object: 415 unless it is {@code application/json}, 400 unless it parses to an object. */
    public static JsonInput of(RoutingContext ctx) {
        return new JsonInput(object(ctx), "", new ArrayList<>());
    }

    /** A body already read as a JSON object (a service that takes the request's JSON as it came). */
    public static JsonInput of(JsonObject json) {
        return new JsonInput(json, "", new ArrayList<>());
    }

    public static JsonObject object(RoutingContext ctx) {
        String type = ctx.request().getHeader("Content-Type");
        if (type == null
                || !JSON_MEDIA_TYPE
                        .matcher(type.toLowerCase(java.util.Locale.ROOT))
                        .matches()) {
            throw AppError.of(ErrorCode.UNSUPPORTED_MEDIA_TYPE, "Send the body as application/json");
        }
        if (ctx.body() == null || ctx.body().isEmpty()) {
            throw AppError.of(ErrorCode.MALFORMED_JSON, "The request body is empty");
        }
        Object value;
        try {
            value = io.vertx.core.json.Json.decodeValue(ctx.body().buffer());
        } catch (DecodeException e) {
            throw AppError.of(ErrorCode.MALFORMED_JSON, "The request body is not valid JSON");
        }
        if (!(value instanceof JsonObject object)) {
            throw AppError.of(ErrorCode.MALFORMED_JSON, "The request body must be a JSON object");
        }
        return object;
    }

    public boolean has(String field) {
        return json.containsKey(field);
    }

    public String requiredText(String field, int maxLength) {
        return optionalText(field, maxLength).orElseGet(() -> {
            if (!hasError(field)) {
                error(field, "is required");
            }
            return "";
        });
    }

    public Optional<String> optionalText(String field, int maxLength) {
        Object v = json.getValue(field);
        if (v == null) {
            return Optional.empty();
        }
        if (!(v instanceof String s)) {
            error(field, "must be a string");
            return Optional.empty();
        }
        String trimmed = s.strip();
        if (trimmed.isEmpty()) {
            return Optional.empty();
        }
        if (trimmed.length() > maxLength) {
            error(field, "must be at most " + maxLength + " characters");
            return Optional.empty();
        }
        if (trimmed.chars().anyMatch(c -> Character.isISOControl(c) && c != '\n' && c != '\r' && c != '\t')) {
            error(field, "must not contain control characters");
            return Optional.empty();
        }
        return Optional.of(trimmed);
    }

    public static boolean isEmail(String text) {
        return EMAIL.matcher(text).matches();
    }

    public Optional<String> optionalEmail(String field) {
        return optionalText(field, 254).filter(e -> {
            if (!EMAIL.matcher(e).matches()) {
                error(field, "must be an email address");
                return false;
            }
            return true;
        });
    }

    public Optional<UUID> optionalUuid(String field) {
        return optionalText(field, 36).flatMap(s -> parse(field, s, UUID::fromString, "must be a UUID"));
    }

    /**
     * A calendar date as {@code YYYY-MM-DD}, years 1900 to 2999 only. {@code LocalDate} alone would
     * take year 0000, which PostgreSQL stores as 1 BC and serves back as 0001, and five-digit years.
     */
    public Optional<LocalDate> optionalDate(String field) {
        return optionalText(field, 40).flatMap(s -> {
            if (!CALENDAR_DATE.matcher(s).matches()) {
                error(field, DATE_MESSAGE);
                return Optional.empty();
            }
            return parse(field, s, LocalDate::parse, DATE_MESSAGE);
        });
    }

    /** Years 1900 to 9999: what PostgreSQL's timestamptz and every client can round-trip. */
    public Optional<Instant> optionalInstant(String field) {
        return optionalText(field, 40)
                .flatMap(s -> parse(field, s, Instant::parse, "must be an ISO-8601 UTC time"))
                .filter(t -> {
                    if (t.isBefore(EARLIEST) || !t.isBefore(LATEST)) {
                        error(field, "must be between the years 1900 and 9999");
                        return false;
                    }
                    return true;
                });
    }

    public <E extends Enum<E>> Optional<E> optionalEnum(String field, Class<E> type) {
        return optionalText(field, 40).flatMap(s -> {
            for (E e : type.getEnumConstants()) {
                if (e.name().equalsIgnoreCase(s)) {
                    return Optional.of(e);
                }
            }
            List<String> allowed = java.util.Arrays.stream(type.getEnumConstants())
                    .map(e -> e.name().toLowerCase(java.util.Locale.ROOT))
                    .toList();
            error(field, "must be one of " + String.join(", ", allowed));
            return Optional.empty();
        });
    }

    /** A nested JSON object (absent or null: an empty one), read with field names like {@code params.days}. */
    public JsonInput object(String field) {
        Object v = json.getValue(field);
        if (v != null && !(v instanceof JsonObject)) {
            error(field, "must be an object");
        }
        return new JsonInput(v instanceof JsonObject object ? object : new JsonObject(), prefix + field + ".", errors);
    }

    /** A JSON array of objects, each read by {@code item} with field names like {@code lines[2].quantity}. */
    public <T> List<T> objects(String field, int maxItems, Function<JsonInput, T> item) {
        Object v = json.getValue(field);
        if (v == null) {
            return List.of();
        }
        if (!(v instanceof JsonArray array)) {
            error(field, "must be an array");
            return List.of();
        }
        if (array.size() > maxItems) {
            error(field, "must have at most " + maxItems + " items");
            return List.of();
        }
        List<T> out = new ArrayList<>();
        for (int i = 0; i < array.size(); i++) {
            Object element = array.getValue(i);
            String name = prefix + field + "[" + i + "]";
            if (!(element instanceof JsonObject object)) {
                errors.add(new FieldError(name, "must be an object"));
                continue;
            }
            out.add(item.apply(new JsonInput(object, name + ".", errors)));
        }
        return out;
    }

    /** A number, integral or with up to {@code scale} decimal places, within [min, max]. */
    public Optional<java.math.BigDecimal> optionalDecimal(
            String field, int scale, java.math.BigDecimal min, java.math.BigDecimal max) {
        Object v = json.getValue(field);
        if (v == null) {
            return Optional.empty();
        }
        if (!(v instanceof Number n)) {
            error(field, "must be a number");
            return Optional.empty();
        }
        // A literal like 1e400 arrives as an infinite double, which no BigDecimal can hold.
        if (n instanceof Double x && !Double.isFinite(x) || n instanceof Float f && !Float.isFinite(f)) {
            error(field, "must be between " + min.toPlainString() + " and " + max.toPlainString());
            return Optional.empty();
        }
        java.math.BigDecimal d = new java.math.BigDecimal(n.toString()).stripTrailingZeros();
        if (d.scale() > scale) {
            error(field, "must have at most " + scale + " decimal places");
            return Optional.empty();
        }
        if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
            error(field, "must be between " + min.toPlainString() + " and " + max.toPlainString());
            return Optional.empty();
        }
        return Optional.of(d);
    }

    public Optional<Long> optionalLong(String field, long min, long max) {
        Object v = json.getValue(field);
        if (v == null) {
            return Optional.empty();
        }
        if (!(v instanceof Integer || v instanceof Long)) {
            error(field, "must be a whole number");
            return Optional.empty();
        }
        long l = ((Number) v).longValue();
        if (l < min || l > max) {
            error(field, "must be between " + min + " and " + max);
            return Optional.empty();
        }
        return Optional.of(l);
    }

    public void error(String field, String message) {
        errors.add(new FieldError(prefix + field, message));
    }

    public boolean hasError(String field) {
        return errors.stream().anyMatch(e -> e.field().equals(prefix + field));
    }

    /** Throws the collected field errors as one 422, if there are any. */
    public void validate() {
        if (!errors.isEmpty()) {
            throw AppError.validation(errors);
        }
    }

    private <T> Optional<T> parse(String field, String s, Function<String, T> parser, String message) {
        try {
            return Optional.of(parser.apply(s));
        } catch (IllegalArgumentException | DateTimeParseException e) {
            error(field, message);
            return Optional.empty();
        }
    }
}
