package uk.co.tradersflow.admin.report;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.db.Rows;

/**
 * The SQL of the CSV reports (sql/V032): downloads prepared, checked and spent through SECURITY
 * DEFINER functions bound to the owner and the token's hash, and each report read in keyset pages
 * through a function of its own, one short statement per page.
 */
final class ReportRepository {
    static final String CREATE = "SELECT id, expires_at FROM report_export_create($1, $2, $3, $4, $5)";
    static final String CLAIM = "SELECT report FROM report_export_claim($1, $2, $3)";
    static final String USABLE = "SELECT report_export_usable($1, $2, $3) AS usable";
    static final String AUDIT_LAST = "SELECT report_audit_last() AS last";
    static final String ACCOUNTS_PAGE = "SELECT k, cells FROM report_accounts_page($1::text::uuid, $2)";
    static final String SUBSCRIPTIONS_PAGE = "SELECT k, cells FROM report_subscriptions_page($1::text::uuid, $2)";
    static final String EMAILS_PAGE = "SELECT k, cells FROM report_emails_page($1::text::uuid, $2)";
    static final String AUDIT_PAGE = "SELECT k, cells FROM report_audit_page($1::text::bigint, $2, $3)";

    record Prepared(UUID id, Instant expiresAt) {}

    private final Db db;

    ReportRepository(Db db) {
        this.db = db;
    }

    static Future<Prepared> create(
            SqlConnection tx, UUID actionId, Report report, UUID ownerId, byte[] tokenHash, Duration life) {
        return tx.preparedQuery(CREATE)
                .execute(Tuple.tuple()
                        .addUUID(actionId)
                        .addString(report.reportName())
                        .addUUID(ownerId)
                        .addBuffer(Buffer.buffer(tokenHash))
                        .addInteger((int) life.toSeconds()))
                .map(rows -> {
                    Row r = rows.iterator().next();
                    return new Prepared(r.getUUID("id"), Rows.instant(r, "expires_at"));
                });
    }

    /** Spends the download: its report, once, for its owner and token before it expires. */
    static Future<Optional<Report>> claim(SqlConnection tx, UUID exportId, UUID ownerId, byte[] tokenHash) {
        return tx.preparedQuery(CLAIM)
                .execute(Tuple.of(exportId, ownerId, Buffer.buffer(tokenHash)))
                .map(rows -> rows.size() == 0
                        ? Optional.<Report>empty()
                        : Report.named(rows.iterator().next().getString("report")));
    }

    Future<Boolean> usable(UUID exportId, UUID ownerId, byte[] tokenHash) {
        return db.asWorker(
                        tx -> tx.preparedQuery(USABLE).execute(Tuple.of(exportId, ownerId, Buffer.buffer(tokenHash))))
                .map(rows -> Boolean.TRUE.equals(rows.iterator().next().getBoolean("usable")));
    }

    /** The newest audit entry's id: an audit export stops there. */
    Future<Long> auditLast() {
        return db.asWorker(tx -> tx.preparedQuery(AUDIT_LAST).execute())
                .map(rows -> rows.iterator().next().getLong("last"));
    }

    /**
     * Up to {@code limit} rows of {@code report} after key {@code after} (null: from the start), each
     * as its key ({@code k}) and its cells ({@code cells}, text[]); for the audit, up to {@code last}.
     */
    Future<RowSet<Row>> page(Report report, String after, long last, int limit) {
        // As the worker role (V036), like the admin area's other cross-account reads.
        return db.asWorker(tx -> switch (report) {
            case ACCOUNTS -> tx.preparedQuery(ACCOUNTS_PAGE).execute(Tuple.of(after, limit));
            case SUBSCRIPTIONS -> tx.preparedQuery(SUBSCRIPTIONS_PAGE).execute(Tuple.of(after, limit));
            case EMAILS -> tx.preparedQuery(EMAILS_PAGE).execute(Tuple.of(after, limit));
            case AUDIT -> tx.preparedQuery(AUDIT_PAGE).execute(Tuple.of(after == null ? "0" : after, last, limit));
        });
    }
}
