package uk.co.tradersflow.platform.db;

import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import uk.co.tradersflow.error.AppError;

/** Small helpers for turning result rows into records. */
public final class Rows {
    private Rows() {}

    public static <T> List<T> all(RowSet<Row> rows, Function<Row, T> mapper) {
        List<T> out = new ArrayList<>(rows.size());
        rows.forEach(r -> out.add(mapper.apply(r)));
        return out;
    }

    /** The single row of a lookup, or 404: under RLS, "not yours" and "does not exist" look the same. */
    public static <T> T one(RowSet<Row> rows, Function<Row, T> mapper) {
        if (rows.size() == 0) {
            throw AppError.notFound();
        }
        return mapper.apply(rows.iterator().next());
    }

    public static Instant instant(Row row, String column) {
        return instant(row, row.getColumnIndex(column));
    }

    public static Instant instant(Row row, int column) {
        OffsetDateTime t = row.getOffsetDateTime(column);
        return t == null ? null : t.toInstant();
    }

    public static Optional<Instant> optionalInstant(Row row, String column) {
        return Optional.ofNullable(instant(row, column));
    }

    public static OffsetDateTime utc(Instant instant) {
        return instant == null ? null : instant.atOffset(java.time.ZoneOffset.UTC);
    }
}
