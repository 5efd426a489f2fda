package uk.co.tradersflow.auth;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import uk.co.tradersflow.audit.AuditEntry;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.email.EmailOutbox;
import uk.co.tradersflow.email.OutgoingEmail;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.platform.bus.SessionRevoked;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.http.ClientInfo;
import uk.co.tradersflow.platform.security.Principal;

/**
 * The signed-in user's own view of their account: who they are, their sessions (devices) and
 * the account's security activity; ending one session; exporting everything the account holds
 * (GDPR access and portability); and closing the account (everything signed out at once, the
 * data deleted after 30 days).
 */
public final class MeService {
    private static final Duration RETENTION = Duration.ofDays(30);

    /** Who the user is, their account and its subscription. */
    public record Me(
            UUID userId,
            String email,
            boolean emailVerified,
            UUID accountId,
            String businessName,
            String accountStatus,
            String subscriptionStatus,
            Optional<Instant> trialEnd,
            Optional<Instant> currentPeriodEnd) {}

    /** One live session of the user. */
    public record Session(UUID id, Instant createdAt, Instant lastUsedAt, String userAgent, String ip) {}

    /** One audit entry of the account; {@code id} orders them and pages through them. */
    public record Activity(
            long id, String action, Instant occurredAt, String ip, String userAgent, JsonObject details) {}

    /** Activity entries older than entry {@code before} ({@link Long#MAX_VALUE}: the newest), at most {@code limit}. */
    public record ActivityQuery(long before, int limit) {}

    /** One page of activity; {@code nextBefore} is where the next page starts, if there is one. */
    public record ActivityPage(List<Activity> items, Optional<Long> nextBefore) {}

    public record CloseAccount(Principal who, String password, ClientInfo.Client client) {
        @Override
        public String toString() {
            return "CloseAccount[user=" + who.userId() + "]";
        }
    }

    private final Db db;
    private final MeRepository repo;
    private final AccountRepository accounts;
    private final CurrentPassword currentPassword;
    private final EmailOutbox outbox;
    private final AuditLog audit;
    private final SessionRevocations revocations;
    private final Runnable accountClosed;

    /** {@code accountClosed} runs after a closure commits: it wakes the retention job, which cancels the Stripe subscription. */
    MeService(
            Db db,
            MeRepository repo,
            AccountRepository accounts,
            CurrentPassword currentPassword,
            EmailOutbox outbox,
            AuditLog audit,
            SessionRevocations revocations,
            Runnable accountClosed) {
        this.db = db;
        this.repo = repo;
        this.accounts = accounts;
        this.currentPassword = currentPassword;
        this.outbox = outbox;
        this.audit = audit;
        this.revocations = revocations;
        this.accountClosed = accountClosed;
    }

    public Future<Me> me(Principal p) {
        return repo.me(p.accountId(), p.userId());
    }

    public Future<List<Session>> sessions(Principal p) {
        return repo.sessions(p.accountId(), p.userId());
    }

    /** Ends one of the user's own live sessions; 404 for any other id. */
    public Future<Void> endSession(Principal p, UUID sessionId, ClientInfo.Client client) {
        return db.inAccount(p.accountId(), tx -> MeRepository.endSession(tx, sessionId, p.userId())
                        .compose(ended -> ended
                                ? audit.append(
                                        tx,
                                        AuditEntry.byUser(p, client, "session.ended")
                                                .detail("sessionId", sessionId.toString()))
                                : Future.failedFuture(AppError.notFound())))
                .compose(v -> revocations.publish(SessionRevoked.session(sessionId)));
    }

    public Future<ActivityPage> activity(Principal p, ActivityQuery query) {
        // One more than asked for tells whether another page follows.
        return repo.activity(p.accountId(), query.before(), query.limit() + 1)
                .map(rows -> rows.size() > query.limit()
                        ? new ActivityPage(
                                rows.subList(0, query.limit()),
                                Optional.of(rows.get(query.limit() - 1).id()))
                        : new ActivityPage(rows, Optional.empty()));
    }

    /** Everything the account holds, as one JSON document. Secrets and hashes excluded. */
    public Future<JsonObject> export(Principal p) {
        return accounts.export(
                p.accountId(), new JsonObject().put("exportedAt", Instant.now().toString()));
    }

    /** Closes the account once the password is confirmed; answers when its data will be deleted. */
    public Future<Instant> close(CloseAccount cmd) {
        Principal p = cmd.who();
        Instant deleteAfter = Instant.now().plus(RETENTION);
        return currentPassword
                .confirmed(p, cmd.password())
                .compose(me -> db.inAccount(p.accountId(), tx -> AccountRepository.close(tx, p.accountId(), deleteAfter)
                        .compose(v -> audit.append(
                                tx,
                                AuditEntry.byUser(p, cmd.client(), "account.closed")
                                        .detail("deleteAfter", deleteAfter.toString())))
                        .compose(v -> outbox.enqueue(
                                tx,
                                OutgoingEmail.of(
                                        "account_closed",
                                        me.email().value(),
                                        new JsonObject().put("deleteAfter", deleteAfter.toString()),
                                        "account-closed:" + p.accountId(),
                                        p.accountId())))))
                .onSuccess(v -> accountClosed.run())
                .compose(v -> revocations.publish(SessionRevoked.user(p.userId())))
                .map(deleteAfter);
    }
}
