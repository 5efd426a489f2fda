package uk.co.tradersflow.admin.report;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.streams.WriteStream;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import uk.co.tradersflow.admin.actions.ReportExports;
import uk.co.tradersflow.audit.AuditEntry;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.auth.SecretTokens;
import uk.co.tradersflow.config.AppConfig;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.error.FieldError;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.http.ClientInfo;
import uk.co.tradersflow.platform.http.WhenWritable;
import uk.co.tradersflow.platform.security.ActorType;
import uk.co.tradersflow.platform.security.Principal;

/**
 * The owners' CSV reports (accounts, subscriptions, emails, audit). {@link #prepare} (the confirmed
 * {@code export_report} admin action) makes a one-time download bound to the owner, valid 15
 * minutes, its token stored only as a hash; {@link #claim} spends it; {@link #stream} writes the
 * report from the database a page at a time, waiting whenever the client's write queue is full, so
 * the server holds one page of a report of any size ({@code ReportExportMemoryBenchmark}: a
 * million audit entries). Preparing and downloading are audited, with the owner as actor.
 */
public final class CsvReportService implements ReportExports {
    static final Duration LINK_LIFE = Duration.ofMinutes(15);
    static final String TOKEN_PREFIX = "tfx_";
    static final String PATH = "/admin/api/exports/";
    /** Rows per statement: a page is a few hundred KiB of CSV at most. */
    static final int PAGE_ROWS = 1000;

    /** A claimed download: which report, and what to call the file. */
    public record Download(UUID exportId, Report report, String filename) {}

    private final AppConfig.AuthSettings config;
    private final Db db;
    private final ReportRepository repo;
    private final AuditLog audit;
    private final String publicBase;

    public CsvReportService(AppConfig.AuthSettings config, String publicUrl, Db db, AuditLog audit) {
        this.config = config;
        this.db = db;
        this.repo = new ReportRepository(db);
        this.audit = audit;
        this.publicBase = publicUrl.endsWith("/") ? publicUrl.substring(0, publicUrl.length() - 1) : publicUrl;
    }

    /**
     * A one-time download of {@code report} for {@code owner}: {@code {report, url, expiresAt}}.
     * 422 for a report that does not exist; 403 {@code insufficient_role} unless the caller is an
     * owner signed in as themselves.
     */
    @Override
    public Future<JsonObject> prepare(UUID actionId, String report, Principal owner) {
        Optional<Report> named = Report.named(report);
        if (named.isEmpty()) {
            return Future.failedFuture(AppError.validation(
                    List.of(new FieldError("report", "must be one of " + String.join(", ", Report.names())))));
        }
        if (!isOwner(owner)) {
            return Future.failedFuture(AppError.of(ErrorCode.INSUFFICIENT_ROLE, "Only owners may export reports"));
        }
        String token = SecretTokens.generate(TOKEN_PREFIX);
        return db.asWorker(tx -> ReportRepository.create(
                                tx, actionId, named.get(), owner.userId(), SecretTokens.hash(token), LINK_LIFE)
                        .compose(prepared -> audit.append(
                                        tx,
                                        AuditEntry.by(
                                                        ActorType.OWNER,
                                                        Optional.of(owner.userId()),
                                                        Optional.empty(),
                                                        "admin.report_prepared")
                                                .target("report_export", prepared.id())
                                                .detail("report", named.get().reportName())
                                                .detail("actionId", actionId.toString())
                                                .detail(
                                                        "expiresAt",
                                                        prepared.expiresAt().toString()))
                                .map(prepared)))
                .map(prepared -> new JsonObject()
                        .put("report", named.get().reportName())
                        .put("url", publicBase + PATH + prepared.id() + "?token=" + token)
                        .put("expiresAt", prepared.expiresAt().toString()));
    }

    /**
     * Spends the download {@code exportId} for {@code owner}: 403 {@code signed_url_invalid} when
     * the token is wrong, spent or expired, or the download is another owner's. Audited
     * ({@code admin.report_downloaded}) in the transaction that spends it.
     */
    public Future<Download> claim(UUID exportId, String token, Principal owner, ClientInfo.Client client) {
        if (token == null || token.length() > 100 || !isOwner(owner)) {
            return Future.failedFuture(refused());
        }
        return db.asWorker(tx -> ReportRepository.claim(tx, exportId, owner.userId(), SecretTokens.hash(token))
                .compose(report -> report.isEmpty()
                        ? Future.<Download>failedFuture(refused())
                        : audit.append(
                                        tx,
                                        AuditEntry.by(
                                                        ActorType.OWNER,
                                                        Optional.of(owner.userId()),
                                                        Optional.empty(),
                                                        "admin.report_downloaded")
                                                .target("report_export", exportId)
                                                .detail("report", report.get().reportName())
                                                .from(client))
                                .map(v -> new Download(
                                        exportId,
                                        report.get(),
                                        "tradersflow-" + report.get().reportName() + "-" + exportId + ".csv"))));
    }

    /** Whether {@link #claim} would serve the download, spending nothing (a HEAD request). */
    public Future<Boolean> usable(UUID exportId, String token, Principal owner) {
        if (token == null || token.length() > 100 || !isOwner(owner)) {
            return Future.succeededFuture(false);
        }
        return repo.usable(exportId, owner.userId(), SecretTokens.hash(token));
    }

    /**
     * Writes {@code report} as CSV to {@code out}, header first, a page of rows per write; after a
     * write that fills {@code out}'s queue, waits for it to drain (or for {@code gone}, the client
     * leaving, which ends the stream with a failure). Answers the number of data rows written.
     */
    public Future<Long> stream(Report report, WriteStream<Buffer> out, Future<Void> gone) {
        Future<Long> last = report == Report.AUDIT ? repo.auditLast() : Future.succeededFuture(0L);
        return last.compose(upTo -> new Transfer(report, upTo, out, gone).start());
    }

    /**
     * One report's way to the client. A loop of callbacks, not a chain of composed futures: each
     * composed step would keep the page it captured reachable until the last one, and a million
     * rows would be held whole (the benchmark saw a gigabyte). The next page is asked for as soon
     * as the current one is encoded, so the database works while it crosses the network: two pages
     * at most are held at once.
     */
    private final class Transfer {
        private final Report report;
        private final long upTo;
        private final WriteStream<Buffer> out;
        private final Future<Void> gone;
        private final Promise<Long> done = Promise.promise();
        private Promise<Void> drained;
        private long written;

        Transfer(Report report, long upTo, WriteStream<Buffer> out, Future<Void> gone) {
            this.report = report;
            this.upTo = upTo;
            this.out = out;
            this.gone = gone;
        }

        Future<Long> start() {
            gone.onComplete(v -> {
                Promise<Void> waiting = drained;
                if (waiting != null) {
                    waiting.tryFail("the client left before the report was complete");
                }
                done.tryFail("the client left before the report was complete");
            });
            StringBuilder header = new StringBuilder();
            CsvCells.row(header, report.header());
            write(header).onComplete(w -> {
                if (w.failed()) {
                    done.tryFail(w.cause());
                } else {
                    receive(page(report, null, upTo));
                }
            });
            return done.future();
        }

        private void receive(Future<RowSet<Row>> fetching) {
            fetching.onComplete(ar -> {
                if (ar.failed()) {
                    done.tryFail(ar.cause());
                    return;
                }
                if (done.future().isComplete()) {
                    return;
                }
                RowSet<Row> rows = ar.result();
                if (rows.size() == 0) {
                    done.tryComplete(written);
                    return;
                }
                StringBuilder csv = new StringBuilder(rows.size() * 200);
                String key = encode(rows, csv);
                written += rows.size();
                Future<RowSet<Row>> next = rows.size() < PAGE_ROWS ? null : page(report, key, upTo);
                write(csv).onComplete(w -> {
                    if (w.failed()) {
                        done.tryFail(w.cause());
                    } else if (next == null) {
                        done.tryComplete(written);
                    } else {
                        receive(next);
                    }
                });
            });
        }

        /** Writes {@code csv}; completes at once while {@code out} has room, else once it drains. */
        private Future<Void> write(StringBuilder csv) {
            out.write(Buffer.buffer(csv.toString().getBytes(StandardCharsets.UTF_8)));
            if (!out.writeQueueFull()) {
                // Not waited for: a client that leaves is seen through gone, and waiting for each flush
                // would leave the database idle while the page crosses the network.
                return Future.succeededFuture();
            }
            Promise<Void> waiting = Promise.promise();
            drained = waiting;
            WhenWritable.run(out, waiting::tryComplete);
            if (gone.isComplete()) {
                waiting.tryFail("the client left before the report was complete");
            }
            return waiting.future();
        }
    }

    /**
     * One page, read again (twice at most) when a read fails: a page is a keyset read, safe to
     * repeat, and a download of a million rows should not be lost to one statement that met a busy
     * moment (the 5 s statement limit, a reset connection).
     */
    private Future<RowSet<Row>> page(Report report, String after, long upTo) {
        return repo.page(report, after, upTo, PAGE_ROWS)
                .recover(e -> repo.page(report, after, upTo, PAGE_ROWS))
                .recover(e -> repo.page(report, after, upTo, PAGE_ROWS));
    }

    /** Appends each row's cells to {@code csv}; answers the last row's key. */
    private static String encode(RowSet<Row> rows, StringBuilder csv) {
        String key = null;
        for (Row r : rows) {
            key = r.getString("k");
            CsvCells.row(csv, r.getArrayOfStrings("cells"));
        }
        return key;
    }

    private boolean isOwner(Principal p) {
        return p.impersonatorId().isEmpty() && p.emailVerified() && config.isOwnerEmail(p.email());
    }

    private static AppError refused() {
        return AppError.of(
                ErrorCode.SIGNED_URL_INVALID, "This download link is not valid: it is used, expired or not yours");
    }
}
