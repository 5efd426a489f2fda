package uk.co.tradersflow.data.jobs;

import io.vertx.core.Future;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.List;
import java.util.UUID;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.db.Rows;
import uk.co.tradersflow.platform.db.ScopedRead;
import uk.co.tradersflow.platform.http.PageRequest;

/**
 * Job SQL, run inside {@code Db.inAccount} (the page through a function that scopes itself,
 * {@code Db.read}): row-level security supplies and checks the account.
 */
final class JobRepository {
    private static final String COLUMNS =
            "id, customer_id, title, description, status, scheduled_for, created_at, updated_at";

    private static final ScopedRead PAGE = ScopedRead.of("job_page", 4, COLUMNS);

    private static final String FIND = "SELECT %s FROM jobs WHERE id = $1".formatted(COLUMNS);

    private static final String INSERT =
            """
      INSERT INTO jobs (customer_id, title, description, status, scheduled_for)
      VALUES ($1, $2, $3, coalesce($4, 'quoted'), $5)
      RETURNING %s"""
                    .formatted(COLUMNS);

    private static final String UPDATE =
            """
      UPDATE jobs SET
        title         = CASE WHEN $2 THEN $3 ELSE title END,
        customer_id   = CASE WHEN $4 THEN $5 ELSE customer_id END,
        description   = CASE WHEN $6 THEN $7 ELSE description END,
        status        = CASE WHEN $8 THEN $9 ELSE status END,
        scheduled_for = CASE WHEN $10 THEN $11 ELSE scheduled_for END,
        updated_at = now()
       WHERE id = $1
      RETURNING %s"""
                    .formatted(COLUMNS);

    private static final String CUSTOMER_EXISTS = "SELECT EXISTS (SELECT 1 FROM customers WHERE id = $1) AS found";
    private static final String INVOICED = "SELECT EXISTS (SELECT 1 FROM invoices WHERE job_id = $1) AS found";
    private static final String DELETE = "DELETE FROM jobs WHERE id = $1";

    /** A page, newest first, through the function that scopes itself (one statement, no transaction). */
    Future<List<Job>> list(Db db, UUID accountId, PageRequest page, String status) {
        return db.read(
                        PAGE,
                        accountId,
                        Tuple.of(Rows.utc(page.afterCreatedAt()), page.afterId(), page.fetchSize(), status))
                .map(rows -> Rows.all(rows, Job::from));
    }

    Future<Job> find(SqlConnection tx, UUID id) {
        return tx.preparedQuery(FIND).execute(Tuple.of(id)).map(rows -> Rows.one(rows, Job::from));
    }

    /** Under RLS this is "exists in the caller's account": another account's customer is invisible. */
    Future<Boolean> customerExists(SqlConnection tx, UUID customerId) {
        return exists(tx, CUSTOMER_EXISTS, customerId);
    }

    Future<Boolean> invoiced(SqlConnection tx, UUID jobId) {
        return exists(tx, INVOICED, jobId);
    }

    Future<Job> insert(SqlConnection tx, JobInput in) {
        Tuple args = Tuple.tuple()
                .addUUID(in.customerId().orElse(null))
                .addString(in.title().orElseThrow())
                .addString(in.description().orElse(null))
                .addString(in.status().map(JobStatus::dbValue).orElse(null))
                .addOffsetDateTime(in.scheduledFor().map(Rows::utc).orElse(null));
        return tx.preparedQuery(INSERT).execute(args).map(rows -> Rows.one(rows, Job::from));
    }

    Future<Job> update(SqlConnection tx, UUID id, JobInput in) {
        Tuple args = Tuple.tuple()
                .addUUID(id)
                .addBoolean(in.hasTitle())
                .addString(in.title().orElse(null))
                .addBoolean(in.hasCustomerId())
                .addUUID(in.customerId().orElse(null))
                .addBoolean(in.hasDescription())
                .addString(in.description().orElse(null))
                .addBoolean(in.hasStatus())
                .addString(in.status().map(JobStatus::dbValue).orElse(null))
                .addBoolean(in.hasScheduledFor())
                .addOffsetDateTime(in.scheduledFor().map(Rows::utc).orElse(null));
        return tx.preparedQuery(UPDATE).execute(args).map(rows -> Rows.one(rows, Job::from));
    }

    Future<Boolean> delete(SqlConnection tx, UUID id) {
        return tx.preparedQuery(DELETE).execute(Tuple.of(id)).map(rows -> rows.rowCount() == 1);
    }

    private static Future<Boolean> exists(SqlConnection tx, String sql, UUID id) {
        return tx.preparedQuery(sql)
                .execute(Tuple.of(id))
                .map(rows -> rows.iterator().next().getBoolean("found"));
    }
}
