package uk.co.tradersflow.billing;

import com.stripe.model.Account;
import com.stripe.model.AccountLink;
import com.stripe.model.Customer;
import com.stripe.param.AccountCreateParams;
import com.stripe.param.AccountLinkCreateParams;
import com.stripe.param.CustomerCreateParams;
import com.stripe.param.checkout.SessionCreateParams;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.co.tradersflow.audit.AuditEntry;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.config.AppConfig;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.http.ClientInfo;
import uk.co.tradersflow.platform.security.Principal;

/**
 * Subscription checkout, the billing portal, and Connect onboarding.
 *
 * <p>No Stripe call is made while a database connection is held (issue 16): a request waiting for
 * Stripe (up to {@code TF_STRIPE_TIMEOUT_MS} and more) on a locked row would keep one of the
 * {@code tf-app} pool's connections, and a Stripe slowdown with as many checkouts at once as the
 * pool has connections would leave every other route without one. Each request instead reads
 * the billing row (one statement), calls Stripe with no connection, and stores what Stripe made in
 * a short transaction of its own. The guarantees the row lock gave are kept as follows:
 *
 * <ul>
 *   <li><b>Turns within an account.</b> A checkout or an onboarding of one account waits for the
 *       one before it on this instance ({@link #oneAtATime}: a Vert.x local lock, which holds no
 *       connection and no thread), so a double click or two tabs still take turns: each one's
 *       check sees the last one's outcome, and each expires the sessions before its own.
 *   <li><b>One customer, one connected account, ever.</b> Creating them carries an Idempotency-Key
 *       fixed per account ({@code tf-customer-<account>}, {@code tf-connect-<account>}), so two
 *       requests racing on two instances get the same Stripe object; the id is stored with
 *       {@code WHERE ... IS NULL} under the row's lock, and the id stored first is the one every
 *       request answers with. (Stripe keeps a key 24 h: the stored id is read before each call, so
 *       only a race of two instances more than 24 h after a first creation whose answer was lost
 *       could make a second customer, which then goes unused.)
 * </ul>
 *
 * A claim column committed before the call (and cleared after it) would give the turns across
 * instances too, but needs a migration, a waiting scheme for the requests that find it claimed, and
 * a rule for claims left by a stopped instance; a user's concurrent requests reach one instance in
 * all but rare cases, and two checkouts racing on two instances still leave one open session:
 * each expires, after creating its own, every open one but the newest ({@link #keepOnlyTheNewest}).
 */
public final class BillingService {
    private static final Logger log = LoggerFactory.getLogger(BillingService.class);
    private final Vertx vertx;
    private final Db db;
    private final StripeGateway stripe;
    private final AuditLog audit;
    private final AppConfig.BillingSettings config;
    private final BillingRepository billing = new BillingRepository();

    public BillingService(Vertx vertx, Db db, StripeGateway stripe, AuditLog audit, AppConfig.BillingSettings config) {
        this.vertx = vertx;
        this.db = db;
        this.stripe = stripe;
        this.audit = audit;
        this.config = config;
    }

    /** The caller's billing state (subscription, Connect); 503 {@code billing_not_configured} on a server without Stripe. */
    public Future<BillingAccount> billingAccount(Principal me) {
        return stripe.requireConfigured().compose(v -> account(me.accountId()));
    }

    public Future<BillingAccount> account(UUID accountId) {
        return db.inAccount(accountId, tx -> billing.find(tx, accountId));
    }

    private static final java.util.Set<String> LIVE_STATUSES = java.util.Set.of("trialing", "active", "past_due");

    /**
     * A Checkout Session for the subscription. Refused while the account has a live subscription,
     * by our row or (the webhook for a checkout just completed may not have arrived yet) by Stripe:
     * a second checkout would open a second subscription, billed alongside the tracked one. The
     * account's checkouts take turns ({@link #oneAtATime}), and each expires the customer's other
     * open sessions first, so two checkouts at once (a double click, two tabs) leave only the newest
     * session to be paid. The trial is given once per customer: a customer who ever had a
     * subscription checks out without.
     */
    public Future<String> checkoutSession(Principal me, ClientInfo.Client client) {
        if (config.stripePriceId().isEmpty()) {
            return Future.failedFuture(
                    AppError.of(ErrorCode.BILLING_NOT_CONFIGURED, "No subscription price is configured"));
        }
        String price = config.stripePriceId().get();
        UUID account = me.accountId();
        return stripe.requireConfigured()
                .compose(v -> oneAtATime(account, () -> row(account)
                        .compose(row -> LIVE_STATUSES.contains(row.status())
                                ? Future.failedFuture(alreadySubscribed())
                                // A new customer's id is stored in a transaction of its own, so a
                                // Stripe failure below cannot lose it.
                                : ensureCustomer(me, client, row))
                        .compose(customer -> stripe.subscriptionsOf(customer)
                                .compose(subscriptions -> subscriptions.stream()
                                                .anyMatch(s -> StripeGateway.LIVE_SUBSCRIPTION.contains(s.getStatus()))
                                        ? Future.failedFuture(alreadySubscribed())
                                        // One trial per customer, ever.
                                        : stripe.call(
                                                "checkout.sessions.create",
                                                c -> onlyOpenSession(
                                                        c, customer, account, price, subscriptions.isEmpty()))))));
    }

    /** Expires the customer's open Checkout Sessions, then opens a new one: only the newest can be paid. */
    private String onlyOpenSession(
            com.stripe.StripeClient c, String customer, UUID account, String price, boolean trial)
            throws com.stripe.exception.StripeException {
        for (com.stripe.model.checkout.Session open : openSessions(c, customer)) {
            c.v1().checkout().sessions().expire(open.getId());
        }
        SessionCreateParams.SubscriptionData.Builder subscription =
                SessionCreateParams.SubscriptionData.builder().putMetadata("tf_account_id", account.toString());
        if (trial) {
            subscription.setTrialPeriodDays((long) config.trialDays());
        }
        com.stripe.model.checkout.Session created = c.v1().checkout()
                .sessions()
                .create(
                        SessionCreateParams.builder()
                                .setMode(SessionCreateParams.Mode.SUBSCRIPTION)
                                .setCustomer(customer)
                                .setClientReferenceId(account.toString())
                                .addLineItem(SessionCreateParams.LineItem.builder()
                                        .setPrice(price)
                                        .setQuantity(1L)
                                        .build())
                                .setSubscriptionData(subscription.build())
                                .setSuccessUrl(link("/billing?checkout=success"))
                                .setCancelUrl(link("/billing?checkout=cancelled"))
                                .build(),
                        StripeGateway.idempotent("tf-checkout-" + account + "-" + UUID.randomUUID()));
        keepOnlyTheNewest(c, customer);
        return created.getUrl();
    }

    /**
     * Two checkouts of one account on two instances do not take turns, and each expired the
     * sessions it saw before creating its own. So after creating, each looks again and expires every
     * open session but the newest (by creation time, then id): both instances agree which one that
     * is, so one session is left to be paid, as when they take turns on one instance (the later
     * checkout's; the earlier tab's link answers that it expired).
     */
    /** The customer's open Checkout Sessions (at most 100: a customer never has more than a few). */
    private static java.util.List<com.stripe.model.checkout.Session> openSessions(
            com.stripe.StripeClient c, String customer) throws com.stripe.exception.StripeException {
        return c.v1().checkout()
                .sessions()
                .list(com.stripe.param.checkout.SessionListParams.builder()
                        .setCustomer(customer)
                        .setStatus(com.stripe.param.checkout.SessionListParams.Status.OPEN)
                        .setLimit(100L)
                        .build())
                .getData();
    }

    private static void keepOnlyTheNewest(com.stripe.StripeClient c, String customer)
            throws com.stripe.exception.StripeException {
        java.util.List<com.stripe.model.checkout.Session> open = new java.util.ArrayList<>(openSessions(c, customer));
        open.sort(java.util.Comparator.comparing(
                        (com.stripe.model.checkout.Session o) -> o.getCreated() == null ? 0L : o.getCreated())
                .thenComparing(com.stripe.model.checkout.Session::getId));
        for (int i = 0; i < open.size() - 1; i++) {
            c.v1().checkout().sessions().expire(open.get(i).getId());
        }
    }

    private static AppError alreadySubscribed() {
        return AppError.of(
                ErrorCode.CONFLICT, "This account already has a subscription; change it in the billing portal");
    }

    public Future<String> portalSession(Principal me) {
        return stripe.requireConfigured()
                .compose(v -> account(me.accountId()))
                .compose(acc -> acc.customerId().isPresent()
                        ? Future.succeededFuture(acc.customerId().get())
                        : Future.failedFuture(AppError.of(
                                ErrorCode.CONFLICT, "Start a subscription before opening the billing portal")))
                .compose(customer -> stripe.call("billing_portal.sessions.create", c -> c.v1().billingPortal()
                        .sessions()
                        .create(
                                com.stripe.param.billingportal.SessionCreateParams.builder()
                                        .setCustomer(customer)
                                        .setReturnUrl(link("/billing"))
                                        .build(),
                                StripeGateway.idempotent("tf-portal-" + me.accountId() + "-" + UUID.randomUUID()))
                        .getUrl()));
    }

    public Future<String> onboardingLink(Principal me, ClientInfo.Client client) {
        return stripe.requireConfigured()
                .compose(v -> oneAtATime(me.accountId(), () -> row(me.accountId())
                        .compose(row -> ensureConnectAccount(me, client, row))))
                .compose(acct -> stripe.call("account_links.create", c -> {
                    AccountLink link = c.v1().accountLinks()
                            .create(
                                    AccountLinkCreateParams.builder()
                                            .setAccount(acct)
                                            .setType(AccountLinkCreateParams.Type.ACCOUNT_ONBOARDING)
                                            .setRefreshUrl(link("/settings/payments?onboarding=refresh"))
                                            .setReturnUrl(link("/settings/payments?onboarding=done"))
                                            .build(),
                                    StripeGateway.idempotent(
                                            "tf-account-link-" + me.accountId() + "-" + UUID.randomUUID()));
                    return link.getUrl();
                }));
    }

    /**
     * Runs {@code work} when the account's billing work before it on this instance has finished:
     * the turns the billing row's lock used to give, without a connection held. A request that
     * cannot have its turn within one Stripe call's deadline (the one ahead is waiting for a slow
     * Stripe) gets the 503 that call would give.
     */
    private <T> Future<T> oneAtATime(UUID account, Supplier<Future<T>> work) {
        return vertx.sharedData()
                .getLocalLockWithTimeout("tf-billing:" + account, stripe.deadlineMs())
                .recover(e -> Future.failedFuture(
                        AppError.of(ErrorCode.STRIPE_UNAVAILABLE, "Stripe could not be reached; try again shortly")))
                .compose(lock -> {
                    Future<T> result;
                    try {
                        result = work.get();
                    } catch (RuntimeException e) {
                        result = Future.failedFuture(e);
                    }
                    return result.andThen(ignored -> lock.release());
                });
    }

    /** The account's billing row as it is now (one statement, no lock): nothing is created by reading it. */
    private Future<BillingAccount> row(UUID account) {
        return db.readInAccount(account, conn -> billing.find(conn, account));
    }

    /**
     * The account's Stripe customer id, created (once, ever) if {@code row} has none: created at
     * Stripe with no connection held, then stored unless another request stored one first, whose
     * id is then the answer.
     */
    private Future<String> ensureCustomer(Principal me, ClientInfo.Client client, BillingAccount row) {
        if (row.customerId().isPresent()) {
            return Future.succeededFuture(row.customerId().get());
        }
        UUID account = me.accountId();
        return stripe.call("customers.create", c -> {
                    Customer customer = c.v1().customers()
                            .create(
                                    CustomerCreateParams.builder()
                                            .setEmail(me.email())
                                            .putMetadata("tf_account_id", account.toString())
                                            .build(),
                                    StripeGateway.idempotent("tf-customer-" + account));
                    return customer.getId();
                })
                .compose(id -> db.inAccount(account, tx -> billing.lock(tx, account)
                        .compose(locked -> locked.customerId().isPresent()
                                ? Future.succeededFuture(kept("customer", account, locked.customerId(), id))
                                : billing.setCustomer(tx, account, id)
                                        .compose(stored -> audit.append(
                                                tx,
                                                AuditEntry.byUser(me, client, "billing.customer_created")
                                                        .target("stripe_customer", id)))
                                        .map(id))));
    }

    /** As {@link #ensureCustomer}, for the account's Connect (Express) account. */
    private Future<String> ensureConnectAccount(Principal me, ClientInfo.Client client, BillingAccount row) {
        if (row.connectAccountId().isPresent()) {
            return Future.succeededFuture(row.connectAccountId().get());
        }
        UUID account = me.accountId();
        return stripe.call("accounts.create", c -> {
                    Account acct = c.v1().accounts()
                            .create(
                                    AccountCreateParams.builder()
                                            .setType(AccountCreateParams.Type.EXPRESS)
                                            .setCountry("GB")
                                            .setEmail(me.email())
                                            .putMetadata("tf_account_id", account.toString())
                                            .build(),
                                    StripeGateway.idempotent("tf-connect-" + account));
                    return acct.getId();
                })
                .compose(id -> db.inAccount(account, tx -> billing.lock(tx, account)
                        .compose(locked -> locked.connectAccountId().isPresent()
                                ? Future.succeededFuture(
                                        kept("connected account", account, locked.connectAccountId(), id))
                                : billing.setConnectAccount(tx, account, id)
                                        .compose(stored -> audit.append(
                                                tx,
                                                AuditEntry.byUser(me, client, "billing.connect_account_created")
                                                        .target("stripe_account", id)))
                                        .map(id))));
    }

    /**
     * The id another request stored first. The same Idempotency-Key makes it ours too; only past
     * Stripe's 24 h of keeping a key could they differ, and then ours is left unused.
     */
    private static String kept(String what, UUID account, Optional<String> stored, String ours) {
        if (!stored.get().equals(ours)) {
            log.warn(
                    "account {} already had a Stripe {} {}; the one just made ({}) is not used",
                    account,
                    what,
                    stored.get(),
                    ours);
        }
        return stored.get();
    }

    private String link(String path) {
        String base = config.links().publicUrl().toString();
        return (base.endsWith("/") ? base.substring(0, base.length() - 1) : base) + path;
    }
}
