package uk.co.tradersflow.retention;

import com.stripe.model.Subscription;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.co.tradersflow.audit.AuditEntry;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.billing.StripeGateway;
import uk.co.tradersflow.platform.bus.Addresses;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.db.Rows;
import uk.co.tradersflow.platform.jobs.PeriodicJobVerticle;
import uk.co.tradersflow.platform.security.Actor;
import uk.co.tradersflow.storage.BlobStore;

/**
 * What closing an account promises, carried out later and durably: the customer's Stripe
 * subscriptions are cancelled (retried every round until Stripe confirms, so a Stripe outage loses nothing), and
 * 30 days after closing the account's data and stored files are deleted, leaving an anonymised tombstone and the
 * audit log. Every instance runs this on a timer; a Postgres advisory lock lets one work at a time.
 */
public final class AccountRetentionVerticle extends PeriodicJobVerticle {
    /** A purge step's database budget (Db.UNIT_TIMEOUT is 5 s): deleting a large account's rows takes longer. */
    private static final Duration PURGE_BUDGET = Duration.ofMinutes(2);

    private static final Logger log = LoggerFactory.getLogger(AccountRetentionVerticle.class);
    private static final long LOCK = 0x7466_7265_7465_6e74L; // "tfretent"
    private static final Duration RETRY_WHILE_LOCKED = Duration.ofSeconds(1);

    private final Db db;
    private final BlobStore blobs;
    private final WorkerExecutor workers;
    private final StripeGateway stripe;
    private final AuditLog audit;
    private boolean closurePending;

    public AccountRetentionVerticle(
            Db db, BlobStore blobs, WorkerExecutor workers, StripeGateway stripe, AuditLog audit, Duration interval) {
        super(interval);
        this.db = db;
        this.blobs = blobs;
        this.workers = workers;
        this.stripe = stripe;
        this.audit = audit;
    }

    /**
     * Closing an account signals this (after its commit), so the subscription is cancelled at
     * Stripe within seconds instead of at the next round; the timer still finds any closure whose
     * signal was lost (another instance closed it, or this one restarted).
     */
    @Override
    public Future<?> start() {
        return vertx.eventBus()
                .consumer(Addresses.ACCOUNT_CLOSED, m -> {
                    closurePending = true;
                    wake();
                })
                .completion()
                .compose(v -> super.start());
    }

    /**
     * One round; answers how many accounts it purged. The advisory lock keeps one tf-app connection
     * for the round's length, its Stripe calls included: one connection per instance, however slow
     * Stripe is, never one per request (the round's own statements use short units of work).
     */
    @Override
    protected Future<Integer> round() {
        return db.exclusive(LOCK, () -> cancelSubscriptions().compose(v -> purgeDue()), this::lockedElsewhere)
                .onFailure(e -> log.warn("account retention round failed, will retry: {}", e.getMessage()));
    }

    /**
     * Another instance is running a round, which may have read the closed accounts before a
     * closure signalled here committed: while one is pending, look again in a second.
     */
    private Future<Integer> lockedElsewhere() {
        if (closurePending) {
            vertx.setTimer(RETRY_WHILE_LOCKED.toMillis(), id -> wake());
        }
        return Future.succeededFuture(0);
    }

    /**
     * For every closed account with a Stripe customer: cancels the tracked subscription and any
     * other live one the customer holds at Stripe (a second checkout, one whose webhooks never
     * came), then records the account's subscriptions as cancelled. Until then its data is kept.
     */
    private Future<Void> cancelSubscriptions() {
        closurePending = false;
        if (!stripe.configured()) {
            return Future.succeededFuture();
        }
        return db.asWorker(tx -> tx.query(
                                "SELECT account_id, stripe_customer_id, subscription_id FROM retention_customers_to_cancel()")
                        .execute())
                .compose(rows -> {
                    Future<Void> chain = Future.succeededFuture();
                    for (Row r : rows) {
                        UUID account = r.getUUID("account_id");
                        String customer = r.getString("stripe_customer_id");
                        String tracked = r.getString("subscription_id");
                        chain = chain.compose(v -> liveSubscriptions(customer, tracked)
                                .compose(live -> cancelAll(live).map(live.size()))
                                .compose(cancelled -> stepAudited(
                                        "SELECT retention_subscription_cancelled($1)",
                                        account,
                                        systemEntry(account, "subscription.cancelled")
                                                .detail("reason", "account_closed")
                                                .detail("subscriptions", cancelled)))
                                // One account's failure must not stop the others; it is retried next round.
                                .recover(e -> {
                                    log.warn(
                                            "could not cancel the subscriptions of closed account {} yet; its data is kept until Stripe"
                                                    + " confirms: {}",
                                            account,
                                            e.toString());
                                    return Future.succeededFuture();
                                }));
                    }
                    return chain;
                });
    }

    /** The tracked subscription (unless Stripe says it has ended) and every other live one of the customer. */
    private Future<Set<String>> liveSubscriptions(String customer, String tracked) {
        Future<List<Subscription>> atStripe =
                customer == null ? Future.succeededFuture(List.of()) : stripe.subscriptionsOf(customer);
        return atStripe.map(subscriptions -> {
            Set<String> live = new LinkedHashSet<>();
            if (tracked != null
                    && subscriptions.stream()
                            .noneMatch(s -> s.getId().equals(tracked)
                                    && !StripeGateway.LIVE_SUBSCRIPTION.contains(s.getStatus()))) {
                live.add(tracked);
            }
            subscriptions.stream()
                    .filter(s -> StripeGateway.LIVE_SUBSCRIPTION.contains(s.getStatus()))
                    .forEach(s -> live.add(s.getId()));
            return live;
        });
    }

    private Future<Void> cancelAll(Set<String> subscriptions) {
        Future<Void> chain = Future.succeededFuture();
        for (String subscription : subscriptions) {
            chain = chain.compose(v -> stripe.call("subscriptions.cancel", c -> c.v1().subscriptions()
                            .cancel(subscription, StripeGateway.idempotent("tf-cancel-" + subscription)))
                    .mapEmpty());
        }
        return chain;
    }

    /**
     * The account's customer at Stripe (its name, email and address, kept there by checkout) goes
     * with the account; deleting it again, or one already gone, is not an error.
     */
    private Future<Void> deleteStripeCustomer(UUID account) {
        return db.asWorker(
                        tx -> tx.preparedQuery("SELECT stripe_customer_id FROM billing_accounts WHERE account_id = $1")
                                .execute(Tuple.of(account)))
                .compose(rows -> {
                    String customer =
                            rows.size() == 0 ? null : rows.iterator().next().getString("stripe_customer_id");
                    if (customer == null || !stripe.configured()) {
                        return Future.succeededFuture();
                    }
                    return stripe.call("customers.delete", c -> {
                        try {
                            c.v1().customers().delete(customer, StripeGateway.idempotent("tf-delete-" + customer));
                        } catch (com.stripe.exception.InvalidRequestException gone) {
                            if (gone.getStatusCode() == null || gone.getStatusCode() != 404) {
                                throw gone;
                            }
                        }
                        return null;
                    });
                });
    }

    private Future<Integer> purgeDue() {
        return db.asWorker(tx -> tx.query("SELECT account_id FROM retention_accounts_due()")
                        .execute())
                .compose(rows -> {
                    List<UUID> due = Rows.all(rows, r -> r.getUUID("account_id"));
                    Future<Integer> chain = Future.succeededFuture(0);
                    for (UUID account : due) {
                        // The files go first: if the database purge then fails, the next round finds the account
                        // still due and tries again; the other order could leave bytes that nothing points at.
                        chain = chain.compose(n -> deleteStripeCustomer(account)
                                .compose(v -> workers.<Void>executeBlocking(
                                        () -> {
                                            blobs.deleteAccount(account);
                                            return null;
                                        },
                                        false))
                                .compose(gone -> stepAudited(
                                        "SELECT retention_purge_account($1)",
                                        account,
                                        systemEntry(account, "account.deleted")
                                                .detail("reason", "retention_period_over")))
                                .onSuccess(x -> log.info(
                                        "deleted the data of account {} (closed more than 30 days ago)", account))
                                .map(x -> n + 1)
                                // One account's failure (its folder cannot be removed, say) must not hold up the
                                // others past their deadline; it stays due and is retried next round.
                                .recover(e -> {
                                    log.warn(
                                            "could not delete the data of account {} yet, will retry: {}",
                                            account,
                                            e.toString());
                                    return Future.succeededFuture(n);
                                }));
                    }
                    return chain;
                });
    }

    /** Runs one step of the job for {@code account} and records it, in one worker transaction. */
    private Future<Void> stepAudited(String statement, UUID account, AuditEntry entry) {
        // Purging a large account is one long statement: more than a unit's usual 5 s budget.
        return db.asWorker(
                PURGE_BUDGET,
                tx -> tx.preparedQuery(statement).execute(Tuple.of(account)).compose(x -> audit.append(tx, entry)));
    }

    private static AuditEntry systemEntry(UUID account, String action) {
        return AuditEntry.by(Actor.SYSTEM, java.util.Optional.of(account), action);
    }
}
