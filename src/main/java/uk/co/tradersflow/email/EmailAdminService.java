package uk.co.tradersflow.email;

import io.vertx.core.Future;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import uk.co.tradersflow.audit.AuditEntry;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.http.ClientInfo;
import uk.co.tradersflow.platform.security.ActorType;
import uk.co.tradersflow.platform.security.Principal;

/**
 * The owners' use cases for email, callable from the admin API and anything else an owner drives:
 * the log with each message's downstream events, delivery health, and requeueing a {@code failed}
 * message with its attempts reset (audited; the dispatcher is woken once the requeue commits).
 * Callers have already established that the principal is an owner.
 */
public final class EmailAdminService {
    private final Db db;
    private final OutboxStore outbox;
    private final EmailHealth health;
    private final EmailOutbox dispatch;
    private final AuditLog audit;

    public EmailAdminService(Db db, EmailHealth health, EmailOutbox dispatch, AuditLog audit) {
        this.db = db;
        this.outbox = new OutboxStore(db);
        this.health = health;
        this.dispatch = dispatch;
        this.audit = audit;
    }

    /** A page of the log across every account, newest first. */
    public Future<List<EmailLogEntry>> log(EmailLogQuery query) {
        return outbox.log(query);
    }

    /** Delivery figures over the alert window. */
    public Future<EmailHealth.Stats> health() {
        return health.stats();
    }

    /** 404 for no such message, 409 for one not {@code failed}; otherwise queued again, and answers its id. */
    public Future<UUID> requeue(Principal owner, ClientInfo.Client client, UUID messageId) {
        return db.asWorker(tx -> outbox.requeue(tx, messageId).compose(result -> switch (result.outcome()) {
            case NOT_FOUND -> Future.<UUID>failedFuture(AppError.notFound());
            case NOT_FAILED ->
                Future.<UUID>failedFuture(AppError.of(ErrorCode.CONFLICT, "Only a failed email can be requeued"));
            case QUEUED -> {
                dispatch.wakeAfterCommit(tx);
                yield audit.append(
                                tx,
                                AuditEntry.by(
                                                ActorType.OWNER,
                                                Optional.of(owner.userId()),
                                                result.accountId(),
                                                "email.requeued")
                                        .target("email", messageId)
                                        .from(client))
                        .map(messageId);
            }
        }));
    }
}
