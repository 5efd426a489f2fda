package uk.co.tradersflow.admin;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import uk.co.tradersflow.email.QueuedEmail;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.db.Rows;

/**
 * The admin area's reads, across every account. They run as the worker role (Db.asWorker), which
 * may call the SECURITY DEFINER functions of sql/V030 and read the email outbox, and nothing more
 * than it already could: no table grant, no RLS switched off. Only behind the admin gate.
 */
final class AdminRepository {
    static final String ACCOUNTS_PAGE = "SELECT * FROM admin_accounts_page($1, $2, $3, $4, $5, $6)";
    static final String ACCOUNT = "SELECT * FROM admin_account($1)";
    static final String ACCOUNT_USERS = "SELECT * FROM admin_account_users($1)";
    static final String ACCOUNT_EMAILS =
            """
      SELECT id, template, recipient, status, attempts, last_error, created_at, sent_at
        FROM email_outbox WHERE account_id = $1
       ORDER BY created_at DESC, id DESC
       LIMIT $2""";
    static final String AUDIT_PAGE = "SELECT * FROM admin_audit_page($1, $2, $3, $4, $5, $6, $7)";
    static final String FIGURES = "SELECT computed_at, signups, status_counts, mrr, churn FROM admin_figures($1, $2)";
    static final String REFRESH_FIGURES = "SELECT admin_refresh_figures($1, $2) AS stored";

    private final Db db;

    AdminRepository(Db db) {
        this.db = db;
    }

    /** A page of accounts, one row more than asked when there is a next page. */
    Future<List<AccountSummary>> accounts(AccountQuery q) {
        Tuple args = Tuple.tuple()
                .addString(q.pattern().orElse(null))
                .addString(q.subscriptionStatus().orElse(null))
                .addString(q.accountStatus().orElse(null))
                .addOffsetDateTime(Rows.utc(q.page().afterCreatedAt()))
                .addUUID(q.page().afterId())
                .addInteger(q.page().fetchSize());
        return db.asWorker(tx -> tx.preparedQuery(ACCOUNTS_PAGE).execute(args))
                .map(rows -> Rows.all(rows, AccountSummary::from));
    }

    /** The account in detail, or empty for an unknown id; its four reads go out together. */
    Future<Optional<AccountDetail>> account(UUID id) {
        return db.asWorker(tx -> {
            Future<RowSet<Row>> account = tx.preparedQuery(ACCOUNT).execute(Tuple.of(id));
            Future<RowSet<Row>> users = tx.preparedQuery(ACCOUNT_USERS).execute(Tuple.of(id));
            Future<RowSet<Row>> emails = tx.preparedQuery(ACCOUNT_EMAILS).execute(Tuple.of(id, AccountDetail.RECENT));
            Future<RowSet<Row>> audit = tx.preparedQuery(AUDIT_PAGE)
                    .execute(Tuple.tuple()
                            .addUUID(id)
                            .addString(null)
                            .addUUID(null)
                            .addOffsetDateTime(null)
                            .addOffsetDateTime(null)
                            .addLong(Long.MAX_VALUE)
                            .addInteger(AccountDetail.RECENT));
            return Future.all(account, users, emails, audit)
                    .map(done -> account.result().size() == 0
                            ? Optional.<AccountDetail>empty()
                            : Optional.of(new AccountDetail(
                                    AccountDetail.Account.from(
                                            account.result().iterator().next()),
                                    Rows.all(users.result(), AccountDetail.User::from),
                                    Rows.all(emails.result(), QueuedEmail::from),
                                    Rows.all(audit.result(), AuditRecord::from))));
        });
    }

    /** A page of the audit log, one row more than asked when there is a next page. */
    Future<List<AuditRecord>> audit(AuditQuery q) {
        Tuple args = Tuple.tuple()
                .addUUID(q.accountId().orElse(null))
                .addString(q.action().orElse(null))
                .addUUID(q.actorId().orElse(null))
                .addOffsetDateTime(q.from().map(Rows::utc).orElse(null))
                .addOffsetDateTime(q.to().map(Rows::utc).orElse(null))
                .addLong(q.beforeId())
                .addInteger(q.fetchSize());
        return db.asWorker(tx -> tx.preparedQuery(AUDIT_PAGE).execute(args))
                .map(rows -> Rows.all(rows, AuditRecord::from));
    }

    /**
     * The figures over the last {@code days} days, as of their {@code generatedAt}: V037's summary
     * when it is at most {@code maxAge} old, otherwise V030's four queries run now. One row.
     */
    Future<Analytics> analytics(int days, Duration maxAge) {
        return db.asWorker(tx -> tx.preparedQuery(FIGURES).execute(Tuple.of(days, (int) maxAge.toSeconds())))
                .map(rows -> figures(rows.iterator().next(), days));
    }

    /** The figures from their row: V030's functions' rows, each set kept as a JSON array. */
    private static Analytics figures(Row f, int days) {
        Map<String, Long> accounts = new HashMap<>();
        Map<String, Long> subscriptions = new HashMap<>();
        f.getJsonArray("status_counts").forEach(o -> {
            JsonObject c = (JsonObject) o;
            ("account".equals(c.getString("kind")) ? accounts : subscriptions)
                    .put(c.getString("status"), c.getLong("n"));
        });
        Map<String, Long> revenue = new HashMap<>();
        f.getJsonArray("mrr").forEach(o -> {
            JsonObject m = (JsonObject) o;
            revenue.put(m.getString("currency"), m.getLong("mrr_pence"));
        });
        List<Analytics.DayCount> signups = new ArrayList<>();
        f.getJsonArray("signups").forEach(o -> {
            JsonObject d = (JsonObject) o;
            signups.add(new Analytics.DayCount(LocalDate.parse(d.getString("day")), d.getLong("signups")));
        });
        JsonObject c = f.getJsonObject("churn");
        return new Analytics(
                f.getOffsetDateTime("computed_at").toInstant(),
                days,
                signups,
                accounts,
                subscriptions,
                revenue,
                new Analytics.Churn(c.getLong("paying_at_start"), c.getLong("churned"), c.getLong("cancellations")));
    }

    /**
     * Stores the figures now in the summary, unless another instance is storing them or did so
     * less than {@code freshFor} ago; answers whether this call stored them. Counting every account
     * takes far longer than a request's unit of work, hence a {@code budget} of its own.
     */
    Future<Boolean> refreshFigures(int days, Duration freshFor, Duration budget) {
        return db.asWorker(budget, tx -> tx.preparedQuery(REFRESH_FIGURES)
                        .execute(Tuple.of(days, (int) freshFor.toSeconds())))
                .map(rows -> rows.iterator().next().getBoolean("stored"));
    }
}
