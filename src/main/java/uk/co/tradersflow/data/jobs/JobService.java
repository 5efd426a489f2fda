package uk.co.tradersflow.data.jobs;

import io.vertx.core.Future;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import uk.co.tradersflow.audit.AuditEntry;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.error.FieldError;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.db.Tx;
import uk.co.tradersflow.platform.http.ClientInfo;
import uk.co.tradersflow.platform.http.PageRequest;
import uk.co.tradersflow.platform.security.Principal;

/**
 * A tradesperson's jobs as use cases, callable from the API, the admin area, jobs and tests
 * alike. Every write runs in one account-scoped transaction with its audit entry. A job may name
 * only a customer of the caller's own account; {@code caller} is the signed-in user acting,
 * {@code client} where the request came from.
 */
public final class JobService {
    private final Db db;
    private final AuditLog audit;
    private final JobRepository jobs = new JobRepository();

    public JobService(Db db, AuditLog audit) {
        this.db = db;
        this.audit = audit;
    }

    /** A page of the account's jobs, newest first, optionally only those in one status. */
    public Future<List<Job>> list(UUID accountId, PageRequest page, Optional<JobStatus> status) {
        return jobs.list(db, accountId, page, status.map(JobStatus::dbValue).orElse(null));
    }

    /** One job of the account; another account's id is simply not found. */
    public Future<Job> find(UUID accountId, UUID id) {
        return db.readInAccount(accountId, tx -> jobs.find(tx, id));
    }

    public Future<Job> create(Principal caller, ClientInfo.Client client, JobInput input) {
        return db.inAccount(caller.accountId(), tx -> requireCustomer(tx, input.customerId())
                .compose(v -> jobs.insert(tx, input))
                .compose(job -> audit.append(tx, entry(caller, client, "job.created", job.id()))
                        .map(job)));
    }

    /** Applies the fields the change names, leaving the others as they are. */
    public Future<Job> update(Principal caller, ClientInfo.Client client, UUID id, JobInput change) {
        return db.inAccount(caller.accountId(), tx -> jobs.find(tx, id)
                .compose(existing ->
                        change.hasCustomerId() ? requireCustomer(tx, change.customerId()) : Future.succeededFuture())
                .compose(v -> jobs.update(tx, id, change))
                .compose(job -> audit.append(tx, entry(caller, client, "job.updated", job.id()))
                        .map(job)));
    }

    /** Refused (409) once the job is invoiced: its invoices are voided, never orphaned. */
    public Future<Void> delete(Principal caller, ClientInfo.Client client, UUID id) {
        return db.inAccount(caller.accountId(), tx -> jobs.find(tx, id)
                .compose(job -> jobs.invoiced(tx, id))
                .compose(invoiced -> invoiced
                        ? Future.failedFuture(AppError.of(
                                ErrorCode.CONFLICT, "This job has invoices; void them instead of deleting the job"))
                        : jobs.delete(tx, id))
                .compose(ok -> audit.append(tx, entry(caller, client, "job.deleted", id))));
    }

    /** Anything but one of the caller's own customers is a field error, not a leak. */
    private Future<Void> requireCustomer(Tx tx, Optional<UUID> customerId) {
        if (customerId.isEmpty()) {
            return Future.succeededFuture();
        }
        return jobs.customerExists(tx, customerId.get())
                .compose(found -> found
                        ? Future.<Void>succeededFuture()
                        : Future.failedFuture(
                                AppError.validation(List.of(new FieldError("customerId", "no such customer")))));
    }

    private static AuditEntry entry(Principal caller, ClientInfo.Client client, String action, UUID jobId) {
        return AuditEntry.byUser(caller, client, action).target("job", jobId);
    }
}
