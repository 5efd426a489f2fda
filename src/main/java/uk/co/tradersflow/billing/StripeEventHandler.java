package uk.co.tradersflow.billing;

import com.stripe.model.Subscription;
import com.stripe.model.SubscriptionItem;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.co.tradersflow.audit.AuditEntry;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.data.invoices.Invoice;
import uk.co.tradersflow.data.invoices.InvoiceService;
import uk.co.tradersflow.data.invoices.StripePayment;
import uk.co.tradersflow.email.EmailOutbox;
import uk.co.tradersflow.email.OutgoingEmail;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.db.Tx;
import uk.co.tradersflow.platform.security.ActorType;

/**
 * Applies one stored Stripe event. Ordering strategy: the event is only a hint of WHICH object
 * changed; its state is re-read from Stripe (pinned API version) and written to the account's
 * billing row only if that row is still the version seen before the read (see
 * {@link #underRowVersion}), so whatever order events arrive in, and however they interleave
 * across instances, the last write is always the newest state Stripe holds. Effects (billing row,
 * audit entry, emails, the event's own status) commit in one tf_worker transaction; no
 * transaction, row lock or pooled connection is held while Stripe answers.
 */
public final class StripeEventHandler {
    private static final Logger log = LoggerFactory.getLogger(StripeEventHandler.class);

    // xmin names the row version: every UPDATE of the row, by any writer, gives it a new one.
    private static final String FIND_BY_CUSTOMER =
            "SELECT *, xmin::text AS row_version FROM billing_accounts WHERE stripe_customer_id = $1";
    private static final String FIND_BY_CONNECT =
            "SELECT *, xmin::text AS row_version FROM billing_accounts WHERE connect_account_id = $1";
    private static final String LOCKED = " FOR UPDATE";
    /** Reads of Stripe per event before it gives up on a row that keeps changing (it is retried later, with backoff). */
    static final int MAX_ROUNDS = 3;

    private static final String UPDATE_SUBSCRIPTION =
            """
      UPDATE billing_accounts SET subscription_id = $2, subscription_status = $3, stripe_status = $4, trial_end = $5,
             current_period_end = $6, cancel_at_period_end = $7, price_id = $8, price_amount_pence = $9,
             price_currency = $10, price_interval = $11, price_interval_count = $12, updated_at = now()
       WHERE account_id = $1""";
    private static final String UPDATE_CONNECT =
            """
      UPDATE billing_accounts SET charges_enabled = $2, payouts_enabled = $3, details_submitted = $4, updated_at = now()
       WHERE account_id = $1""";
    private static final String INVOICE_FOR_LINK = "SELECT billing_invoice_for_payment_link($1) AS invoice_id";
    private static final String ACCOUNT_EMAIL = "SELECT billing_account_email($1) AS email";

    private final Db db;
    private final StripeGateway stripe;
    private final StripeEventStore events;
    private final AuditLog audit;
    private final EmailOutbox outbox;
    private final InvoiceService invoices;
    private final String billingUrl;
    /** Stripe reads in flight at once, over every handling verticle of this instance. */
    private final AtomicInteger stripeCalls = new AtomicInteger();

    private final int maxStripeCalls;

    /**
     * {@code maxStripeCalls} bounds the Stripe reads this instance's handling makes at once (each
     * waits on a {@code tf-stripe} worker thread and on Stripe); an event that needs one beyond it
     * fails with {@link StripeCallsBusy} before anything is done, to be claimed again later.
     */
    public StripeEventHandler(
            Db db,
            StripeGateway stripe,
            StripeEventStore events,
            AuditLog audit,
            EmailOutbox outbox,
            InvoiceService invoices,
            String billingUrl,
            int maxStripeCalls) {
        this.db = db;
        this.stripe = stripe;
        this.events = events;
        this.audit = audit;
        this.outbox = outbox;
        this.invoices = invoices;
        this.billingUrl = billingUrl;
        this.maxStripeCalls = maxStripeCalls;
    }

    /** {@code call} through the gateway, if fewer than {@code maxStripeCalls} are in flight; else StripeCallsBusy. */
    private <T> Future<T> callStripe(String what, StripeGateway.StripeCall<T> call) {
        if (stripeCalls.incrementAndGet() > maxStripeCalls) {
            stripeCalls.decrementAndGet();
            return Future.failedFuture(new StripeCallsBusy(maxStripeCalls));
        }
        return stripe.call(what, call).andThen(done -> stripeCalls.decrementAndGet());
    }

    /** Maps Stripe's subscription status to ours (the contract's table); anything else keeps "none". */
    static String mapStatus(String stripeStatus) {
        return switch (stripeStatus == null ? "" : stripeStatus) {
            case "trialing" -> "trialing";
            case "active" -> "active";
            case "past_due", "unpaid" -> "past_due";
            case "canceled", "incomplete_expired" -> "cancelled";
            default -> "none";
        };
    }

    public Future<Void> apply(StripeEventStore.Claimed claimed) {
        JsonObject ev = claimed.payload();
        if (ev.getBoolean("purged", false)) {
            // An owner's replay of an event whose account has since been deleted.
            return ignore(claimed, "the account's data has been deleted");
        }
        String type = ev.getString("type", "");
        String connected = ev.getString("account");
        JsonObject obj = Optional.ofNullable(ev.getJsonObject("data"))
                .map(d -> d.getJsonObject("object"))
                .orElse(new JsonObject());
        Future<Void> work;
        if (connected != null) {
            work = switch (type) {
                case "account.updated" -> connectAccount(claimed, connected);
                case "payment_intent.succeeded" ->
                    invoicePaid(claimed, connected, metadataInvoice(obj), Payment.of(obj, "amount_received", "amount"));
                case "checkout.session.completed" ->
                    "paid".equals(obj.getString("payment_status"))
                            ? invoiceForSession(obj)
                                    .compose(inv ->
                                            invoicePaid(claimed, connected, inv, Payment.of(obj, "amount_total")))
                            : ignore(claimed, "checkout session not paid yet");
                default -> ignore(claimed, "event type not used for connected accounts");
            };
        } else {
            work = switch (type) {
                case "customer.subscription.created",
                        "customer.subscription.updated",
                        "customer.subscription.deleted",
                        "customer.subscription.paused",
                        "customer.subscription.resumed" ->
                    subscription(claimed, obj.getString("customer"), obj.getString("id"), Extra.NONE);
                case "customer.subscription.trial_will_end" ->
                    subscription(claimed, obj.getString("customer"), obj.getString("id"), Extra.TRIAL_ENDING);
                case "checkout.session.completed" ->
                    "subscription".equals(obj.getString("mode"))
                            ? subscription(
                                    claimed, obj.getString("customer"), obj.getString("subscription"), Extra.NONE)
                            : ignore(claimed, "checkout session is not a subscription");
                case "invoice.paid", "invoice.payment_succeeded" ->
                    subscription(claimed, obj.getString("customer"), invoiceSubscription(obj), Extra.NONE);
                case "invoice.payment_failed" ->
                    subscription(claimed, obj.getString("customer"), invoiceSubscription(obj), Extra.PAYMENT_FAILED);
                case "account.updated" -> connectAccount(claimed, obj.getString("id"));
                default -> ignore(claimed, "event type not handled");
            };
        }
        return work;
    }

    private enum Extra {
        NONE,
        TRIAL_ENDING,
        PAYMENT_FAILED
    }

    /** 2025+ API versions put an invoice's subscription under parent.subscription_details; older ones at the top. */
    private static String invoiceSubscription(JsonObject invoice) {
        JsonObject details = Optional.ofNullable(invoice.getJsonObject("parent"))
                .map(p -> p.getJsonObject("subscription_details"))
                .orElse(null);
        Object nested = details == null ? null : details.getValue("subscription");
        Object top = invoice.getValue("subscription");
        Object id = nested != null ? nested : top;
        return id instanceof JsonObject j ? j.getString("id") : (String) id;
    }

    private Future<Void> ignore(StripeEventStore.Claimed claimed, String why) {
        return db.asWorker(tx -> events.done(tx, claimed, "ignored", why, null));
    }

    /** A write decided from what Stripe said, applied to the billing row ({@code locked}) it was decided for. */
    @FunctionalInterface
    private interface RowWrite {
        Future<Void> apply(Tx tx, Row locked);
    }

    /**
     * Reconciles the billing row {@code find} selects by {@code key} with Stripe without holding the
     * row's lock (or a transaction, or a pooled connection) while Stripe answers, and without losing
     * the ordering that lock gave. The row is read with its version; {@code readStripe} calls Stripe
     * outside any transaction and returns the write; the write runs under the row's lock only if the
     * row still has the version seen before the call. Otherwise another handler (or a request) wrote
     * the row meanwhile, after a Stripe read that may be newer than ours, so ours is dropped and the
     * round starts again with a fresh read. Every write therefore comes from a Stripe read made after
     * the previous write committed: writes land in the order of their reads, as under the lock.
     */
    private Future<Void> underRowVersion(
            StripeEventStore.Claimed claimed,
            String find,
            String key,
            String noRow,
            Function<Row, Future<RowWrite>> readStripe,
            int round) {
        return db.asWorker(tx -> tx.preparedQuery(find)
                        .execute(Tuple.of(key))
                        .compose(rows -> rows.size() == 0
                                ? events.done(tx, claimed, "ignored", noRow, null)
                                        .map(Optional.<Row>empty())
                                : Future.succeededFuture(
                                        Optional.of(rows.iterator().next()))))
                .compose(seen -> seen.isEmpty()
                        ? Future.<Void>succeededFuture()
                        : readStripe
                                .apply(seen.get())
                                .compose(write -> db.asWorker(tx -> tx.preparedQuery(find + LOCKED)
                                        .execute(Tuple.of(key))
                                        .compose(rows -> {
                                            Row locked = rows.size() == 0
                                                    ? null
                                                    : rows.iterator().next();
                                            if (locked == null
                                                    || !locked.getString("row_version")
                                                            .equals(seen.get().getString("row_version"))) {
                                                return Future.succeededFuture(false);
                                            }
                                            return write.apply(tx, locked).map(true);
                                        })))
                                .compose(written -> {
                                    if (written) {
                                        return Future.<Void>succeededFuture();
                                    }
                                    if (round >= MAX_ROUNDS) {
                                        return Future.failedFuture(new RowKeptChanging(MAX_ROUNDS));
                                    }
                                    return underRowVersion(claimed, find, key, noRow, readStripe, round + 1);
                                }));
    }

    private Future<Void> subscription(
            StripeEventStore.Claimed claimed, String customer, String subscriptionHint, Extra extra) {
        if (customer == null) {
            return ignore(claimed, "event names no customer");
        }
        JsonObject obj = claimed.payload().getJsonObject("data").getJsonObject("object");
        return underRowVersion(
                claimed,
                FIND_BY_CUSTOMER,
                customer,
                "no account has this Stripe customer",
                seen -> {
                    BillingAccount before = BillingAccount.from(seen);
                    String subId = subscriptionHint != null
                            ? subscriptionHint
                            : before.subscriptionId().orElse(null);
                    if (subId == null) {
                        return Future.succeededFuture((tx, locked) -> events.done(
                                tx, claimed, "ignored", "no subscription to reconcile", before.accountId()));
                    }
                    return callStripe("subscriptions.retrieve", c -> c.v1().subscriptions()
                                    .retrieve(subId))
                            .compose(sub -> {
                                if (!customer.equals(sub.getCustomer())) {
                                    return Future.failedFuture(
                                            new IllegalStateException("subscription belongs to another customer"));
                                }
                                return Future.succeededFuture((tx, locked) -> {
                                    BillingAccount row = BillingAccount.from(locked);
                                    String status = mapStatus(sub.getStatus());
                                    boolean olderSubscription = row.subscriptionId()
                                                    .isPresent()
                                            && !row.subscriptionId().get().equals(subId)
                                            && status.equals("cancelled");
                                    Future<Void> state = olderSubscription
                                            ? Future.succeededFuture()
                                            : writeSubscription(tx, row, sub, status);
                                    return state.compose(v -> extraEmail(tx, row, sub, obj, extra))
                                            .compose(v -> events.done(tx, claimed, "processed", null, row.accountId()));
                                });
                            });
                },
                1);
    }

    private Future<Void> writeSubscription(Tx tx, BillingAccount row, Subscription sub, String status) {
        Long periodEnd = sub.getItems() == null || sub.getItems().getData() == null
                ? null
                : sub.getItems().getData().stream()
                        .map(SubscriptionItem::getCurrentPeriodEnd)
                        .filter(java.util.Objects::nonNull)
                        .max(Long::compare)
                        .orElse(null);
        Tuple args = Tuple.tuple()
                .addUUID(row.accountId())
                .addString(sub.getId())
                .addString(status)
                .addString(sub.getStatus())
                .addOffsetDateTime(time(sub.getTrialEnd()))
                .addOffsetDateTime(time(periodEnd))
                .addBoolean(Boolean.TRUE.equals(sub.getCancelAtPeriodEnd()));
        // What it charges, for the owners' MRR (sql/V030).
        SubscriptionPrice price = SubscriptionPrice.of(sub);
        args.addString(price.priceId())
                .addLong(price.amountPence())
                .addString(price.currency())
                .addString(price.interval())
                .addInteger(price.intervalCount());
        Future<Void> update =
                tx.preparedQuery(UPDATE_SUBSCRIPTION).execute(args).mapEmpty();
        if (status.equals(row.status())) {
            return update;
        }
        return update.compose(v -> audit.append(
                tx,
                byStripe(row.accountId(), "billing.subscription_status_changed")
                        .target("stripe_subscription", sub.getId())
                        .detail("from", row.status())
                        .detail("to", status)
                        .detail("stripeStatus", sub.getStatus())));
    }

    private Future<Void> extraEmail(Tx tx, BillingAccount row, Subscription sub, JsonObject obj, Extra extra) {
        if (extra == Extra.NONE) {
            return Future.succeededFuture();
        }
        return tx.preparedQuery(ACCOUNT_EMAIL)
                .execute(Tuple.of(row.accountId()))
                .compose(rows -> {
                    String email = rows.iterator().next().getString("email");
                    if (email == null) {
                        return Future.succeededFuture();
                    }
                    OutgoingEmail mail;
                    if (extra == Extra.TRIAL_ENDING) {
                        OffsetDateTime trialEnd = time(sub.getTrialEnd());
                        mail = OutgoingEmail.of(
                                "trial_ending",
                                email,
                                new JsonObject()
                                        .put(
                                                "trialEnd",
                                                trialEnd == null
                                                        ? null
                                                        : trialEnd.toInstant().toString())
                                        .put("billingUrl", billingUrl),
                                "trial_ending:" + sub.getId() + ":" + sub.getTrialEnd(),
                                row.accountId());
                    } else {
                        mail = OutgoingEmail.of(
                                "payment_failed",
                                email,
                                new JsonObject()
                                        .put("amountPence", obj.getLong("amount_due", 0L))
                                        .put(
                                                "currency",
                                                obj.getString("currency", "gbp").toUpperCase(Locale.ROOT))
                                        .put("billingUrl", billingUrl),
                                "payment_failed:" + obj.getString("id") + ":" + obj.getInteger("attempt_count", 0),
                                row.accountId());
                    }
                    return outbox.enqueue(tx, mail).mapEmpty();
                });
    }

    private Future<Void> connectAccount(StripeEventStore.Claimed claimed, String connectId) {
        if (connectId == null) {
            return ignore(claimed, "event names no account");
        }
        return underRowVersion(
                claimed,
                FIND_BY_CONNECT,
                connectId,
                "no account has this connected account",
                seen -> callStripe("accounts.retrieve", c -> c.v1().accounts().retrieve(connectId))
                        .map(acct -> (tx, r) -> {
                            UUID account = r.getUUID("account_id");
                            boolean nc = Boolean.TRUE.equals(acct.getChargesEnabled());
                            boolean np = Boolean.TRUE.equals(acct.getPayoutsEnabled());
                            Future<Void> update = tx.preparedQuery(UPDATE_CONNECT)
                                    .execute(Tuple.of(account, nc, np, Boolean.TRUE.equals(acct.getDetailsSubmitted())))
                                    .mapEmpty();
                            if (nc != r.getBoolean("charges_enabled") || np != r.getBoolean("payouts_enabled")) {
                                update = update.compose(v -> audit.append(
                                        tx,
                                        byStripe(account, "billing.connect_status_changed")
                                                .target("stripe_account", connectId)
                                                .detail("chargesEnabled", nc)
                                                .detail("payoutsEnabled", np)));
                            }
                            return update.compose(v -> events.done(tx, claimed, "processed", null, account));
                        }),
                1);
    }

    private static Optional<UUID> metadataInvoice(JsonObject obj) {
        return Optional.ofNullable(obj.getJsonObject("metadata"))
                .map(m -> m.getString("tf_invoice_id"))
                .flatMap(id -> {
                    try {
                        return Optional.of(UUID.fromString(id));
                    } catch (IllegalArgumentException e) {
                        return Optional.empty();
                    }
                });
    }

    private Future<Optional<UUID>> invoiceForSession(JsonObject session) {
        Optional<UUID> fromMetadata = metadataInvoice(session);
        String link = session.getString("payment_link");
        if (fromMetadata.isPresent() || link == null) {
            return Future.succeededFuture(fromMetadata);
        }
        return db.asWorker(tx -> tx.preparedQuery(INVOICE_FOR_LINK)
                .execute(Tuple.of(link))
                .map(rows -> Optional.ofNullable(rows.iterator().next().getUUID("invoice_id"))));
    }

    /**
     * What a payment event says was paid: minor units and an ISO currency, when it says at all, and
     * which payment it was: the payment intent, which a paid checkout session names too, so the two
     * notices Stripe sends for one payment are known as one.
     */
    private record Payment(Long amount, String currency, String id) {
        /** The amount from the first of {@code fields} the object carries. */
        static Payment of(JsonObject obj, String... fields) {
            Long amount = java.util.Arrays.stream(fields)
                    .map(obj::getLong)
                    .filter(java.util.Objects::nonNull)
                    .findFirst()
                    .orElse(null);
            Object intent = obj.getValue("payment_intent");
            String id = "payment_intent".equals(obj.getString("object"))
                    ? obj.getString("id")
                    : intent instanceof String s
                            ? s
                            : intent instanceof JsonObject o ? o.getString("id") : obj.getString("id");
            return new Payment(amount, obj.getString("currency"), id);
        }
    }

    /**
     * Marks the invoice paid once, whichever payment event (and however many) arrives first, and
     * only if at least its total was paid in its currency: a link made for an older, cheaper
     * version of the invoice does not settle the current one.
     */
    private Future<Void> invoicePaid(
            StripeEventStore.Claimed claimed, String connected, Optional<UUID> invoice, Payment paid) {
        if (invoice.isEmpty()) {
            return ignore(claimed, "payment names no TradersFlow invoice");
        }
        if (paid.amount() == null || paid.currency() == null) {
            return ignore(claimed, "payment event carries no amount or currency");
        }
        UUID invoiceId = invoice.get();
        OffsetDateTime paidAt = time(claimed.payload().getLong("created"));
        return db.asWorker(tx -> invoices.markPaid(
                        tx, invoiceId, new StripePayment(connected, paidAt, paid.amount(), paid.currency(), paid.id()))
                .compose(rows -> {
                    if (rows.size() == 0) {
                        return events.done(tx, claimed, "ignored", "no such invoice on this connected account", null);
                    }
                    Row r = rows.iterator().next();
                    UUID account = r.getUUID("account_id");
                    if (!r.getBoolean("amount_matches")) {
                        String why = "paid " + paid.amount() + " "
                                + paid.currency().toUpperCase(java.util.Locale.ROOT) + " for an invoice of "
                                + r.getLong("total_pence") + " " + r.getString("currency") + ": not marked paid";
                        log.warn("stripe event {}: invoice {} {}", claimed.id(), invoiceId, why);
                        return audit.append(
                                        tx,
                                        byStripe(account, "invoice.payment_mismatch")
                                                .target("invoice", invoiceId)
                                                .detail("amountPaid", paid.amount())
                                                .detail("currencyPaid", paid.currency())
                                                .detail("stripeEvent", claimed.id()))
                                .compose(v -> events.done(tx, claimed, "ignored", why, account));
                    }
                    String unexpected = r.getString("unexpected");
                    if (unexpected != null) {
                        // Money reached the tradesperson for an invoice that was void or already paid by another
                        // payment: nothing to mark, but a refund is due, so it is audited and alerted on.
                        String why = unexpected.equals("void") ? "paid while void" : "paid again by another payment";
                        log.error(
                                "INVOICE_PAYMENT_NEEDS_REFUND stripe event {}: invoice {} {} (payment {}, {} {})",
                                claimed.id(),
                                invoiceId,
                                why,
                                paid.id(),
                                paid.amount(),
                                paid.currency());
                        return audit.append(
                                        tx,
                                        byStripe(account, "invoice.payment_unexpected")
                                                .target("invoice", invoiceId)
                                                .detail("reason", unexpected)
                                                .detail("payment", paid.id())
                                                .detail("amountPaid", paid.amount())
                                                .detail("currencyPaid", paid.currency())
                                                .detail("stripeEvent", claimed.id()))
                                .compose(v -> events.done(tx, claimed, "processed", why, account));
                    }
                    if (!r.getBoolean("first_time")) {
                        return events.done(tx, claimed, "processed", "invoice already paid", account);
                    }
                    String number = Invoice.formatNumber(r.getInteger("invoice_number"));
                    Future<Void> effects = audit.append(
                            tx,
                            byStripe(account, "invoice.paid")
                                    .target("invoice", invoiceId)
                                    .detail("number", number)
                                    .detail("connectedAccount", connected)
                                    .detail("stripeEvent", claimed.id()));
                    String email = r.getString("owner_email");
                    if (email != null) {
                        effects = effects.compose(v -> outbox.enqueue(
                                        tx,
                                        OutgoingEmail.of(
                                                "payment_received",
                                                email,
                                                new JsonObject()
                                                        .put("invoiceNumber", number)
                                                        .put("amountPence", r.getLong("total_pence"))
                                                        .put("currency", r.getString("currency"))
                                                        .put("customerName", r.getString("customer_name")),
                                                "payment_received:" + invoiceId,
                                                account))
                                .mapEmpty());
                    }
                    return effects.compose(v -> events.done(tx, claimed, "processed", null, account));
                }));
    }

    private static OffsetDateTime time(Long epochSeconds) {
        return epochSeconds == null
                ? null
                : OffsetDateTime.ofInstant(Instant.ofEpochSecond(epochSeconds), ZoneOffset.UTC);
    }

    /** An entry for what a Stripe event did to {@code account}: Stripe is the actor, with no user. */
    private static AuditEntry byStripe(UUID account, String action) {
        return AuditEntry.by(ActorType.STRIPE, Optional.empty(), Optional.of(account), action);
    }
}
