package uk.co.tradersflow.platform.http;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Function;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;

/**
 * {@code ?limit=&cursor=} for lists sorted newest first. The cursor is an opaque keyset position
 * (created time and id of the last row sent), so pages stay stable while rows are added.
 */
public record PageRequest(int limit, Optional<Position> after) {
    public static final int DEFAULT_LIMIT = 20;
    public static final int MAX_LIMIT = 100;
    /** Page one starts before the end of time: every row sorts before this position. */
    private static final Position START = new Position(Instant.parse("9999-12-31T23:59:59Z"), new UUID(-1L, -1L));
    /** What a rendered page starts with, and what comes between its items and its cursor. */
    private static final String ITEMS = "{\"items\":[";

    private static final String CURSOR = "],\"nextCursor\":";

    /** The last row of a page: lists continue strictly before it in (createdAt desc, id desc) order. */
    public record Position(Instant createdAt, UUID id) {
        String encode() {
            String raw = ChronoUnit.MICROS.between(Instant.EPOCH, createdAt) + "|" + id;
            return Base64.getUrlEncoder().withoutPadding().encodeToString(raw.getBytes(StandardCharsets.UTF_8));
        }

        static Position decode(String cursor) {
            try {
                String raw = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
                String[] parts = raw.split("\\|", 2);
                Instant at = Instant.EPOCH.plus(Long.parseLong(parts[0]), ChronoUnit.MICROS);
                return new Position(at, UUID.fromString(parts[1]));
            } catch (RuntimeException e) {
                throw AppError.of(ErrorCode.MALFORMED_REQUEST, "cursor is not valid");
            }
        }
    }

    public static PageRequest of(RoutingContext ctx) {
        int limit = limitOf(ctx.request().getParam("limit"));
        String cursor = ctx.request().getParam("cursor");
        return new PageRequest(
                limit, cursor == null || cursor.isEmpty() ? Optional.empty() : Optional.of(Position.decode(cursor)));
    }

    /**
     * {@code ?limit=} as every list takes it: absent is {@link #DEFAULT_LIMIT}; anything but a
     * whole number from 1 to {@link #MAX_LIMIT} is 400 {@code malformed_request}. For lists whose
     * cursor is not a {@link Position} (the audit log's is an entry id).
     */
    public static int limitOf(String limitParam) {
        int limit = DEFAULT_LIMIT;
        if (limitParam != null) {
            try {
                limit = Integer.parseInt(limitParam);
            } catch (NumberFormatException e) {
                limit = -1;
            }
            if (limit < 1 || limit > MAX_LIMIT) {
                throw AppError.of(ErrorCode.MALFORMED_REQUEST, "limit must be a whole number from 1 to " + MAX_LIMIT);
            }
        }
        return limit;
    }

    /** Fetch one row more than the limit: its presence says whether there is a next page. */
    public int fetchSize() {
        return limit + 1;
    }

    /** SQL parameters for the keyset: {@code (created_at, id) < ($n, $n+1)}, or the far future when on page one. */
    public Instant afterCreatedAt() {
        return after.orElse(START).createdAt();
    }

    public UUID afterId() {
        return after.orElse(START).id();
    }

    /** The {@code {items, nextCursor}} reply from rows fetched with {@link #fetchSize()}. */
    public <T> JsonObject reply(List<T> rows, Function<T, JsonObject> toJson, Function<T, Position> position) {
        JsonArray items = new JsonArray();
        page(rows).forEach(r -> items.add(toJson.apply(r)));
        return new JsonObject().put("items", items).put("nextCursor", nextCursor(rows, position));
    }

    /**
     * {@link #reply}, for rows already rendered as JSON objects ({@code json}, UTF-8), joined as
     * they are into one buffer of the reply's size. The cursor is base64url, so it needs no
     * escaping inside its string.
     */
    public <T> Buffer replyRendered(List<T> rows, Function<T, Buffer> json, Function<T, Position> position) {
        List<T> page = page(rows);
        String next = nextCursor(rows, position);
        int size = ITEMS.length() + CURSOR.length() + (next == null ? 4 : next.length() + 2) + 1;
        for (T row : page) {
            size += json.apply(row).length() + 1;
        }
        Buffer out = Buffer.buffer(size).appendString(ITEMS);
        for (int i = 0; i < page.size(); i++) {
            if (i > 0) {
                out.appendByte((byte) ',');
            }
            out.appendBuffer(json.apply(page.get(i)));
        }
        out.appendString(CURSOR);
        return (next == null ? out.appendString("null") : out.appendString('"' + next + '"')).appendByte((byte) '}');
    }

    private <T> List<T> page(List<T> rows) {
        return rows.size() > limit ? rows.subList(0, limit) : rows;
    }

    /** Where the next page starts, or null when the extra row was not there: this is the last page. */
    private <T> String nextCursor(List<T> rows, Function<T, Position> position) {
        return rows.size() > limit ? position.apply(rows.get(limit - 1)).encode() : null;
    }
}
