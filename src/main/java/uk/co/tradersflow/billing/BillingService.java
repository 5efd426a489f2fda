package uk.co.tradersflow.billing;

import com.stripe.model.Account;
import com.stripe.model.AccountLink;
import com.stripe.model.Customer;
import com.stripe.param.AccountCreateParams;
import com.stripe.param.AccountLinkCreateParams;
import com.stripe.param.CustomerCreateParams;
import com.stripe.param.checkout.SessionCreateParams;
import io.vertx.core.Future;
import java.util.UUID;
import uk.co.tradersflow.audit.AuditEntry;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.config.AppConfig;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.http.ClientInfo;
import uk.co.tradersflow.platform.security.Principal;

/**
 * Subscription checkout, the billing portal, and Connect onboarding. Stripe objects an account
 * needs once (its customer, its connected account) are created under the account's locked
 * billing row with a deterministic idempotency key, so concurrent or retried requests make one;
 * the id is stored only after Stripe confirmed it (a failed call rolls everything back).
 */
public final class BillingService {
    private final Db db;
    private final StripeGateway stripe;
    private final AuditLog audit;
    private final AppConfig.BillingSettings config;
    private final BillingRepository billing = new BillingRepository();

    public BillingService(Db db, StripeGateway stripe, AuditLog audit, AppConfig.BillingSettings config) {
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
     * check and the new session are made under the billing row's lock, and the customer's other
     * open sessions are expired first, so two checkouts at once (a double click, two tabs) take
     * turns and only the newest session can be paid. The trial is given once per customer: a
     * customer who ever had a subscription checks out without.
     */
    public Future<String> checkoutSession(Principal me, ClientInfo.Client client) {
        if (config.stripePriceId().isEmpty()) {
            return Future.failedFuture(
                    AppError.of(ErrorCode.BILLING_NOT_CONFIGURED, "No subscription price is configured"));
        }
        String price = config.stripePriceId().get();
        UUID account = me.accountId();
        return stripe.requireConfigured()
                // ensureCustomer commits a new customer's id in a transaction of its own, so a Stripe
                // failure below cannot lose it; the checks and the session are then made under the lock again.
                .compose(v -> ensureCustomer(me, client))
                .compose(customer -> db.inAccount(account, tx -> billing.lock(tx, account)
                        .compose(row -> LIVE_STATUSES.contains(row.status())
                                ? Future.failedFuture(alreadySubscribed())
                                : stripe.subscriptionsOf(customer))
                        .compose(subscriptions -> subscriptions.stream()
                                        .anyMatch(s -> StripeGateway.LIVE_SUBSCRIPTION.contains(s.getStatus()))
                                ? Future.failedFuture(alreadySubscribed())
                                // One trial per customer, ever.
                                : stripe.call(
                                        "checkout.sessions.create",
                                        c -> onlyOpenSession(c, customer, account, price, subscriptions.isEmpty())))));
    }

    /** Expires the customer's open Checkout Sessions, then opens a new one: only the newest can be paid. */
    private String onlyOpenSession(
            com.stripe.StripeClient c, String customer, UUID account, String price, boolean trial)
            throws com.stripe.exception.StripeException {
        for (com.stripe.model.checkout.Session open : c.v1().checkout()
                .sessions()
                .list(com.stripe.param.checkout.SessionListParams.builder()
                        .setCustomer(customer)
                        .setStatus(com.stripe.param.checkout.SessionListParams.Status.OPEN)
                        .setLimit(100L)
                        .build())
                .getData()) {
            c.v1().checkout().sessions().expire(open.getId());
        }
        SessionCreateParams.SubscriptionData.Builder subscription =
                SessionCreateParams.SubscriptionData.builder().putMetadata("tf_account_id", account.toString());
        if (trial) {
            subscription.setTrialPeriodDays((long) config.trialDays());
        }
        return c.v1().checkout()
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
                        StripeGateway.idempotent("tf-checkout-" + account + "-" + UUID.randomUUID()))
                .getUrl();
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
                .compose(v -> ensureConnectAccount(me, client))
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

    /** The account's Stripe customer id, created (once, ever) if it has none. */
    private Future<String> ensureCustomer(Principal me, ClientInfo.Client client) {
        UUID account = me.accountId();
        return db.inAccount(account, tx -> billing.lock(tx, account).compose(row -> {
            if (row.customerId().isPresent()) {
                return Future.succeededFuture(row.customerId().get());
            }
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
                    .compose(id -> billing.setCustomer(tx, account, id)
                            .compose(v -> audit.append(
                                    tx,
                                    AuditEntry.byUser(me, client, "billing.customer_created")
                                            .target("stripe_customer", id)))
                            .map(id));
        }));
    }

    private Future<String> ensureConnectAccount(Principal me, ClientInfo.Client client) {
        UUID account = me.accountId();
        return db.inAccount(account, tx -> billing.lock(tx, account).compose(row -> {
            if (row.connectAccountId().isPresent()) {
                return Future.succeededFuture(row.connectAccountId().get());
            }
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
                    .compose(id -> billing.setConnectAccount(tx, account, id)
                            .compose(v -> audit.append(
                                    tx,
                                    AuditEntry.byUser(me, client, "billing.connect_account_created")
                                            .target("stripe_account", id)))
                            .map(id));
        }));
    }

    private String link(String path) {
        String base = config.links().publicUrl().toString();
        return (base.endsWith("/") ? base.substring(0, base.length() - 1) : base) + path;
    }
}
