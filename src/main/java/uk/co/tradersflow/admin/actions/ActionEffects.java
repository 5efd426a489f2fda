package uk.co.tradersflow.admin.actions;

import com.stripe.model.Charge;
import com.stripe.model.PaymentIntent;
import com.stripe.model.Refund;
import com.stripe.param.PaymentIntentRetrieveParams;
import com.stripe.param.RefundCreateParams;
import com.stripe.param.SubscriptionUpdateParams;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import uk.co.tradersflow.admin.actions.AdminActionsRepository.Stored;
import uk.co.tradersflow.admin.actions.AdminActionsRepository.Target;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.auth.AccountSuspension;
import uk.co.tradersflow.billing.StripeGateway;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.error.FieldError;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.security.ActorType;
import uk.co.tradersflow.platform.security.Principal;

/**
 * What each action checks before it is stored (the state it needs, what Stripe says of the
 * payment or subscription, with the values it will use fixed into its parameters so that a
 * retried confirmation sends Stripe the very same request) and what it does once confirmed.
 */
final class ActionEffects {
    /** The stored parameters and the sentence the requester is asked to confirm. */
    record Prepared(JsonObject params, String summary) {}

    /**
     * What a performed action answers ({@code reply}) and what is kept of it in the action's row
     * and audit entry ({@code record}): a sign-in link or a download URL is a bearer secret, so it
     * is answered once and never stored.
     */
    record Performed(JsonObject reply, JsonObject record) {
        static Performed same(JsonObject result) {
            return new Performed(result, result);
        }
    }

    private final Db db;
    private final AuditLog audit;
    private final StripeGateway stripe;
    private final SignInLinks signInLinks;
    private final ReportExports reports;
    private final Clock clock;

    ActionEffects(
            Db db, AuditLog audit, StripeGateway stripe, SignInLinks signInLinks, ReportExports reports, Clock clock) {
        this.db = db;
        this.audit = audit;
        this.stripe = stripe;
        this.signInLinks = signInLinks;
        this.reports = reports;
        this.clock = clock;
    }

    /** The idempotency key of every Stripe write an action makes: a retry of the same action is the same request. */
    static String idempotencyKey(UUID actionId, AdminAction action) {
        return "tf-admin-action-" + actionId + "-" + action.wire();
    }

    Future<Prepared> prepare(AdminAction action, Optional<Target> target, JsonObject params) {
        return switch (action) {
            case SUSPEND -> {
                Target t = target.orElseThrow();
                if (!"active".equals(t.status())) {
                    yield conflict("Only an active account can be suspended; this one is " + t.status());
                }
                yield Future.succeededFuture(
                        new Prepared(params, "Suspend " + describe(t) + ": " + params.getString("reason")));
            }
            case REINSTATE -> {
                Target t = target.orElseThrow();
                if (!"suspended".equals(t.status())) {
                    yield conflict("Only a suspended account can be reinstated; this one is " + t.status());
                }
                yield Future.succeededFuture(new Prepared(params, "Reinstate " + describe(t)));
            }
            case EXTEND_TRIAL -> prepareTrial(target.orElseThrow(), params.getInteger("days"));
            case REFUND ->
                prepareRefund(
                        target.orElseThrow(),
                        params.getString("paymentIntentId"),
                        Optional.ofNullable(params.getLong("amountPence")));
            case SIGNIN_LINK -> {
                Target t = target.orElseThrow();
                if (t.emails().isEmpty()) {
                    yield conflict("This account has no user to sign in as");
                }
                yield Future.succeededFuture(new Prepared(
                        params,
                        "Issue a one-time sign-in link for " + t.emails().get(0) + " of " + describe(t)));
            }
            case EXPORT_REPORT ->
                Future.succeededFuture(
                        new Prepared(params, "Export the " + params.getString("report") + " report as CSV"));
        };
    }

    private Future<Prepared> prepareTrial(Target t, int days) {
        if (t.subscriptionId().isEmpty()) {
            return conflict("This account has no subscription");
        }
        String subscription = t.subscriptionId().get();
        return stripe.callRefusable(
                        "subscriptions.retrieve", c -> c.v1().subscriptions().retrieve(subscription))
                .map(sub -> {
                    long now = clock.instant().getEpochSecond();
                    Long current = sub.getTrialEnd();
                    long from = current != null && current > now ? current : now;
                    long to = from + days * 86_400L;
                    JsonObject params = new JsonObject()
                            .put("days", days)
                            .put("subscriptionId", subscription)
                            .put(
                                    "trialEndBefore",
                                    current == null
                                            ? null
                                            : Instant.ofEpochSecond(current).toString())
                            .put("trialEnd", Instant.ofEpochSecond(to).toString());
                    return new Prepared(
                            params,
                            "Extend the trial of " + describe(t) + " by " + days + " days, to "
                                    + Instant.ofEpochSecond(to));
                });
    }

    private Future<Prepared> prepareRefund(Target t, String paymentIntent, Optional<Long> amount) {
        return stripe.callRefusable("payment_intents.retrieve", c -> c.v1().paymentIntents()
                        .retrieve(
                                paymentIntent,
                                PaymentIntentRetrieveParams.builder()
                                        .addExpand("latest_charge")
                                        .build()))
                .recover(e -> e instanceof AppError a && a.code() == ErrorCode.STRIPE_REFUSED
                        ? Future.failedFuture(invalid("params.paymentIntentId", a.detail()))
                        : Future.failedFuture(e))
                .compose(pi -> {
                    if (t.stripeCustomerId().isEmpty()
                            || !t.stripeCustomerId().get().equals(pi.getCustomer())) {
                        return Future.failedFuture(
                                invalid("params.paymentIntentId", "is not a payment of this account"));
                    }
                    long refundable = refundable(pi);
                    if (refundable <= 0) {
                        return Future.failedFuture(invalid("params.paymentIntentId", "has nothing left to refund"));
                    }
                    if (amount.isPresent() && amount.get() > refundable) {
                        return Future.failedFuture(invalid(
                                "params.amountPence",
                                "must be at most " + refundable + ", what is left to refund of this payment"));
                    }
                    long pence = amount.orElse(refundable);
                    String currency = pi.getCurrency() == null ? "gbp" : pi.getCurrency();
                    JsonObject params = new JsonObject()
                            .put("paymentIntentId", paymentIntent)
                            .put("amountPence", pence)
                            .put("currency", currency.toUpperCase(java.util.Locale.ROOT))
                            .put("refundablePence", refundable);
                    return Future.succeededFuture(new Prepared(
                            params,
                            "Refund " + pence + " (minor units, " + currency.toUpperCase(java.util.Locale.ROOT)
                                    + ") of payment " + paymentIntent + " to " + describe(t)));
                });
    }

    /** What is left to refund: the charge's amount less its refunds; a payment without a charge has received nothing. */
    private static long refundable(PaymentIntent pi) {
        Charge charge = pi.getLatestChargeObject();
        if (charge != null && charge.getAmount() != null) {
            long refunded = charge.getAmountRefunded() == null ? 0 : charge.getAmountRefunded();
            return charge.getAmount() - refunded;
        }
        return pi.getAmountReceived() == null ? 0 : pi.getAmountReceived();
    }

    Future<Performed> perform(Stored a, Principal staff) {
        JsonObject p = a.params();
        return switch (a.action()) {
            case SUSPEND ->
                db.inAccount(
                                a.accountId().orElseThrow(),
                                tx -> AccountSuspension.suspend(
                                        tx,
                                        audit,
                                        a.accountId().get(),
                                        p.getString("reason"),
                                        ActorType.OWNER,
                                        Optional.of(staff.userId())))
                        .compose(changed -> changed
                                ? Future.succeededFuture(Performed.same(accountStatus(a, "suspended")))
                                : conflict("The account is no longer active"));
            case REINSTATE ->
                db.inAccount(
                                a.accountId().orElseThrow(),
                                tx -> AccountSuspension.resume(
                                        tx,
                                        audit,
                                        a.accountId().get(),
                                        Optional.ofNullable(p.getString("reason"))
                                                .orElse("reinstated by an owner"),
                                        ActorType.OWNER,
                                        Optional.of(staff.userId())))
                        .compose(changed -> changed
                                ? Future.succeededFuture(Performed.same(accountStatus(a, "active")))
                                : conflict("The account is no longer suspended"));
            case EXTEND_TRIAL -> {
                long trialEnd = Instant.parse(p.getString("trialEnd")).getEpochSecond();
                yield stripe.callRefusable("subscriptions.update", c -> c.v1().subscriptions()
                                .update(
                                        p.getString("subscriptionId"),
                                        SubscriptionUpdateParams.builder()
                                                .setTrialEnd(trialEnd)
                                                .setProrationBehavior(SubscriptionUpdateParams.ProrationBehavior.NONE)
                                                .build(),
                                        StripeGateway.idempotent(idempotencyKey(a.id(), a.action()))))
                        .map(sub -> Performed.same(new JsonObject()
                                .put("subscriptionId", sub.getId())
                                .put(
                                        "trialEnd",
                                        Instant.ofEpochSecond(sub.getTrialEnd() == null ? trialEnd : sub.getTrialEnd())
                                                .toString())));
            }
            case REFUND ->
                stripe.callRefusable("refunds.create", c -> c.v1().refunds()
                                .create(
                                        RefundCreateParams.builder()
                                                .setPaymentIntent(p.getString("paymentIntentId"))
                                                .setAmount(p.getLong("amountPence"))
                                                .putMetadata("tf_admin_action", a.id().toString())
                                                .build(),
                                        StripeGateway.idempotent(idempotencyKey(a.id(), a.action()))))
                        .map(refund -> Performed.same(refundResult(refund, p)));
            case SIGNIN_LINK ->
                signInLinks
                        .issue(a.id(), a.accountId().orElseThrow(), staff)
                        .map(link ->
                                new Performed(link, new JsonObject().put("expiresAt", link.getValue("expiresAt"))));
            case EXPORT_REPORT ->
                reports.prepare(a.id(), p.getString("report"), staff)
                        .map(export -> new Performed(
                                export,
                                new JsonObject()
                                        .put("report", export.getValue("report"))
                                        .put("expiresAt", export.getValue("expiresAt"))));
        };
    }

    private static JsonObject refundResult(Refund refund, JsonObject params) {
        return new JsonObject()
                .put("refundId", refund.getId())
                .put("paymentIntentId", params.getString("paymentIntentId"))
                .put("amountPence", refund.getAmount() == null ? params.getLong("amountPence") : refund.getAmount())
                .put("currency", params.getString("currency"))
                .put("status", refund.getStatus());
    }

    private static JsonObject accountStatus(Stored a, String status) {
        return new JsonObject()
                .put("accountId", a.accountId().orElseThrow().toString())
                .put("status", status);
    }

    private static String describe(Target t) {
        return "\"" + t.businessName() + "\" (" + t.accountId() + ")";
    }

    static AppError invalid(String field, String message) {
        return AppError.validation(List.of(new FieldError(field, message)));
    }

    private static <T> Future<T> conflict(String detail) {
        return Future.failedFuture(AppError.of(ErrorCode.CONFLICT, detail));
    }
}
