package uk.co.tradersflow.admin;

import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
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
    static final String SIGNUPS = "SELECT day, signups FROM admin_signups_per_day($1)";
    static final String STATUS_COUNTS = "SELECT kind, status, n FROM admin_status_counts()";
    static final String MRR = "SELECT currency, mrr_pence, subscriptions FROM admin_mrr()";
    static final String CHURN = "SELECT paying_at_start, churned, cancellations FROM admin_churn($1)";

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

    /** The figures over the last {@code days} days, their four queries in one round trip. */
    Future<Analytics> analytics(int days, java.time.Instant now) {
        return db.asWorker(tx -> {
            Future<RowSet<Row>> signups = tx.preparedQuery(SIGNUPS).execute(Tuple.of(days));
            Future<RowSet<Row>> counts = tx.preparedQuery(STATUS_COUNTS).execute();
            Future<RowSet<Row>> mrr = tx.preparedQuery(MRR).execute();
            Future<RowSet<Row>> churn = tx.preparedQuery(CHURN).execute(Tuple.of(days));
            return Future.all(signups, counts, mrr, churn).map(done -> {
                Map<String, Long> accounts = new HashMap<>();
                Map<String, Long> subscriptions = new HashMap<>();
                counts.result().forEach(r -> ("account".equals(r.getString("kind")) ? accounts : subscriptions)
                        .put(r.getString("status"), r.getLong("n")));
                Map<String, Long> revenue = new HashMap<>();
                mrr.result().forEach(r -> revenue.put(r.getString("currency"), r.getLong("mrr_pence")));
                Row c = churn.result().iterator().next();
                return new Analytics(
                        now,
                        days,
                        Rows.all(
                                signups.result(),
                                r -> new Analytics.DayCount(r.getLocalDate("day"), r.getLong("signups"))),
                        accounts,
                        subscriptions,
                        revenue,
                        new Analytics.Churn(
                                c.getLong("paying_at_start"), c.getLong("churned"), c.getLong("cancellations")));
            });
        });
    }
}
