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
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
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
 * Applies stored Stripe events, one at a time ({@link #apply}) or a claimed batch in one
 * transaction ({@link #applyBatch}: what the database alone decides, which is most events).
 * Ordering strategy: the event is only a hint of WHICH object
 * changed; its state is re-read from Stripe (pinned API version) and written to the account's
 * billing row only if that row is still the version seen before the read (see
 * {@link #underRowVersion}), so whatever order events arrive in, and however they interleave
 * across instances, the last write is always the newest state Stripe holds. Effects (billing row,
 * audit entry, emails, the event's own status) commit in one tf_worker transaction; no
 * transaction, row lock or pooled connection is held while Stripe answers. A payment marks its
 * invoice paid once, under the invoice's row lock, whichever of its notices comes first.
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

    private static final String NO_CUSTOMER = "no account has this Stripe customer";
    private static final String NO_CONNECTED = "no account has this connected account";
    /** Which of a batch's customers ($1) and connected accounts ($2) an account has: a batch's one look-up. */
    private static final String NAMED_ROWS =
            """
      SELECT stripe_customer_id, connect_account_id FROM billing_accounts
       WHERE stripe_customer_id = ANY($1::text[]) OR connect_account_id = ANY($2::text[])""";

    private static final String NO_INVOICE = "payment names no TradersFlow invoice";
    private static final String NO_AMOUNT = "payment event carries no amount or currency";

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

    /** Applies one claimed event in transactions of its own (see {@link #applyBatch} for many at once). */
    public Future<Void> apply(StripeEventStore.Claimed claimed) {
        Route route;
        try {
            route = route(claimed);
        } catch (RuntimeException e) {
            return Future.failedFuture(e);
        }
        if (route instanceof Route.Subscription s) {
            return subscription(claimed, s.customer(), s.subscriptionHint(), s.extra());
        }
        if (route instanceof Route.Connect c) {
            return connectAccount(claimed, c.connectId());
        }
        if (route instanceof Route.Paid paid) {
            return db.asWorker(tx -> invoicePaid(tx, claimed, paid));
        }
        return ignore(claimed, ((Route.Ignore) route).why());
    }

    /**
     * What {@link #applyBatch} left to its caller: the events to apply {@linkplain #apply alone}
     * (they read Stripe, which no transaction waits for), and those that failed, each with its
     * cause ({@link LeaseLost} among them), to be settled as one applied alone would be. Every
     * other event of the batch is applied and marked, committed together.
     */
    public record BatchOutcome(List<StripeEventStore.Claimed> alone, List<Failure> failed) {}

    public record Failure(StripeEventStore.Claimed claimed, Throwable cause) {}

    /**
     * Applies a claimed batch in one tf_worker transaction, as far as the database alone decides it:
     * the events that change nothing (an ignored type, a customer or connected account no account
     * has) are marked in one statement, and each payment is applied under a savepoint of its own,
     * one after another in the batch's order, so a payment that fails undoes only its own writes
     * and its neighbours commit. Events that reconcile an existing billing row with Stripe are left
     * to be applied alone once the batch has committed: no transaction waits for Stripe. An event
     * whose claim was taken over meanwhile is left unmarked and reported as {@link LeaseLost}.
     *
     * <p>When the transaction itself fails (the database refused a statement outside any savepoint,
     * or the COMMIT), nothing of it holds and every event is left to be applied alone, where each
     * succeeds or fails on its own. The claims guard against a COMMIT that did land after all: an
     * event it marked is no longer held by its claim, so applying it again commits nothing.
     */
    public Future<BatchOutcome> applyBatch(List<StripeEventStore.Claimed> batch) {
        List<StripeEventStore.Claimed> alone = new ArrayList<>();
        List<Failure> failed = new ArrayList<>();
        Map<StripeEventStore.Claimed, Route> routes = new LinkedHashMap<>();
        for (StripeEventStore.Claimed claimed : batch) {
            try {
                routes.put(claimed, route(claimed));
            } catch (RuntimeException e) {
                failed.add(new Failure(claimed, e));
            }
        }
        return db.asWorker(tx -> withInvoicesFound(tx, routes).compose(found -> rowsNamed(tx, found.values())
                        .compose(rows -> applyTogether(tx, found, rows, alone, failed))))
                .transform(ar -> {
                    if (ar.succeeded()) {
                        return Future.succeededFuture(new BatchOutcome(alone, failed));
                    }
                    log.warn(
                            "a batch of {} stripe events could not be applied together ({}); applying each alone",
                            batch.size(),
                            ar.cause().toString());
                    return Future.succeededFuture(new BatchOutcome(batch, List.of()));
                });
    }

    /**
     * {@link #applyBatch}'s work in {@code tx}: marks the events that change nothing in one
     * statement, applies each payment under a savepoint of its own, and adds to {@code alone} and
     * {@code failed} what it leaves. Fails only when a statement outside the savepoints fails.
     */
    private Future<Void> applyTogether(
            Tx tx,
            Map<StripeEventStore.Claimed, Route> routes,
            Named rows,
            List<StripeEventStore.Claimed> alone,
            List<Failure> failed) {
        List<StripeEventStore.Done> done = new ArrayList<>();
        List<Map.Entry<StripeEventStore.Claimed, Route.Paid>> payments = new ArrayList<>();
        routes.forEach((claimed, route) -> {
            if (route instanceof Route.Ignore ignore) {
                done.add(new StripeEventStore.Done(claimed, "ignored", ignore.why(), null));
            } else if (route instanceof Route.Subscription s
                    && !rows.customers().contains(s.customer())) {
                done.add(new StripeEventStore.Done(claimed, "ignored", NO_CUSTOMER, null));
            } else if (route instanceof Route.Connect c && !rows.connected().contains(c.connectId())) {
                done.add(new StripeEventStore.Done(claimed, "ignored", NO_CONNECTED, null));
            } else if (route instanceof Route.Paid paid) {
                payments.add(Map.entry(claimed, paid));
            } else {
                alone.add(claimed); // reconciles an existing billing row with Stripe
            }
        });
        Future<Void> marked = done.isEmpty()
                ? Future.succeededFuture()
                : events.doneAll(tx, done).map(held -> {
                    done.stream()
                            .filter(d -> !held.contains(d.claimed().id()))
                            .forEach(d -> failed.add(new Failure(
                                    d.claimed(), new LeaseLost(d.claimed().id()))));
                    return null;
                });
        // In the order of their invoices, the same in every batch: each payment locks its invoice
        // until its batch commits, so two batches that share invoices wait for each other in turn
        // and never deadlock. The sort is stable: one invoice's events keep their claim order.
        payments.sort(
                Comparator.comparing(payment -> payment.getValue().invoice().orElseThrow()));
        for (Map.Entry<StripeEventStore.Claimed, Route.Paid> payment : payments) {
            StripeEventStore.Claimed claimed = payment.getKey();
            marked = marked.compose(v -> tx.savepoint(step -> invoicePaid(step, claimed, payment.getValue()))
                    .recover(e -> {
                        failed.add(new Failure(claimed, e));
                        return Future.succeededFuture();
                    }));
        }
        return marked;
    }

    /**
     * {@code routes} with each payment that names its invoice only by its payment link given the
     * invoice that link is for (found in {@code tx}), so every payment of a batch names its
     * invoice before any is applied.
     */
    private static Future<Map<StripeEventStore.Claimed, Route>> withInvoicesFound(
            Tx tx, Map<StripeEventStore.Claimed, Route> routes) {
        Map<StripeEventStore.Claimed, Route> found = new LinkedHashMap<>(routes);
        List<Future<?>> lookups = new ArrayList<>();
        routes.forEach((claimed, route) -> {
            if (route instanceof Route.Paid paid && paid.link() != null) {
                lookups.add(invoiceOf(tx, paid)
                        .onSuccess(
                                invoice -> found.put(claimed, paid(paid.connected(), invoice, null, paid.payment()))));
            }
        });
        return Future.all(lookups).map(found);
    }

    /** The Stripe customers and connected accounts of {@code routes} that some account has. */
    private record Named(Set<String> customers, Set<String> connected) {}

    private static Future<Named> rowsNamed(Tx tx, Collection<Route> routes) {
        List<String> customers = new ArrayList<>();
        List<String> connected = new ArrayList<>();
        for (Route route : routes) {
            if (route instanceof Route.Subscription s) {
                customers.add(s.customer());
            } else if (route instanceof Route.Connect c) {
                connected.add(c.connectId());
            }
        }
        if (customers.isEmpty() && connected.isEmpty()) {
            return Future.succeededFuture(new Named(Set.of(), Set.of()));
        }
        return tx.preparedQuery(NAMED_ROWS)
                .execute(Tuple.tuple()
                        .addArrayOfString(customers.toArray(String[]::new))
                        .addArrayOfString(connected.toArray(String[]::new)))
                .map(rows -> {
                    Set<String> haveCustomer = new HashSet<>();
                    Set<String> haveConnected = new HashSet<>();
                    for (Row r : rows) {
                        if (r.getString("stripe_customer_id") != null) {
                            haveCustomer.add(r.getString("stripe_customer_id"));
                        }
                        if (r.getString("connect_account_id") != null) {
                            haveConnected.add(r.getString("connect_account_id"));
                        }
                    }
                    return new Named(haveCustomer, haveConnected);
                });
    }

    /**
     * What an event asks of its handling, decided from the event alone: nothing ({@link Route.Ignore}),
     * a billing row reconciled with Stripe ({@link Route.Subscription}, {@link Route.Connect}), or an
     * invoice marked paid ({@link Route.Paid}, the database only).
     */
    private sealed interface Route {
        record Ignore(String why) implements Route {}

        record Subscription(String customer, String subscriptionHint, Extra extra) implements Route {}

        record Connect(String connectId) implements Route {}

        /** {@code link}: the payment link to find the invoice by, when the event's metadata names none. */
        record Paid(String connected, Optional<UUID> invoice, String link, Payment payment) implements Route {}
    }

    private static Route route(StripeEventStore.Claimed claimed) {
        JsonObject ev = claimed.payload();
        if (ev.getBoolean("purged", false)) {
            // An owner's replay of an event whose account has since been deleted.
            return new Route.Ignore("the account's data has been deleted");
        }
        String type = ev.getString("type", "");
        String connected = ev.getString("account");
        JsonObject obj = Optional.ofNullable(ev.getJsonObject("data"))
                .map(d -> d.getJsonObject("object"))
                .orElse(new JsonObject());
        if (connected != null) {
            return switch (type) {
                case "account.updated" -> connect(connected);
                case "payment_intent.succeeded" ->
                    paid(connected, metadataInvoice(obj), null, Payment.of(obj, "amount_received", "amount"));
                case "checkout.session.completed" ->
                    "paid".equals(obj.getString("payment_status"))
                            ? paid(
                                    connected,
                                    metadataInvoice(obj),
                                    obj.getString("payment_link"),
                                    Payment.of(obj, "amount_total"))
                            : new Route.Ignore("checkout session not paid yet");
                default -> new Route.Ignore("event type not used for connected accounts");
            };
        }
        return switch (type) {
            case "customer.subscription.created",
                    "customer.subscription.updated",
                    "customer.subscription.deleted",
                    "customer.subscription.paused",
                    "customer.subscription.resumed" ->
                subscription(obj.getString("customer"), obj.getString("id"), Extra.NONE);
            case "customer.subscription.trial_will_end" ->
                subscription(obj.getString("customer"), obj.getString("id"), Extra.TRIAL_ENDING);
            case "checkout.session.completed" ->
                "subscription".equals(obj.getString("mode"))
                        ? subscription(obj.getString("customer"), obj.getString("subscription"), Extra.NONE)
                        : new Route.Ignore("checkout session is not a subscription");
            case "invoice.paid", "invoice.payment_succeeded" ->
                subscription(obj.getString("customer"), invoiceSubscription(obj), Extra.NONE);
            case "invoice.payment_failed" ->
                subscription(obj.getString("customer"), invoiceSubscription(obj), Extra.PAYMENT_FAILED);
            case "account.updated" -> connect(obj.getString("id"));
            default -> new Route.Ignore("event type not handled");
        };
    }

    private static Route subscription(String customer, String subscriptionHint, Extra extra) {
        return customer == null
                ? new Route.Ignore("event names no customer")
                : new Route.Subscription(customer, subscriptionHint, extra);
    }

    private static Route connect(String connectId) {
        return connectId == null ? new Route.Ignore("event names no account") : new Route.Connect(connectId);
    }

    private static Route paid(String connected, Optional<UUID> invoice, String link, Payment payment) {
        if (invoice.isPresent() || link == null) {
            if (invoice.isEmpty()) {
                return new Route.Ignore(NO_INVOICE);
            }
            if (payment.amount() == null || payment.currency() == null) {
                return new Route.Ignore(NO_AMOUNT);
            }
            return new Route.Paid(connected, invoice, null, payment);
        }
        return new Route.Paid(connected, invoice, link, payment);
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
                NO_CUSTOMER,
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
                NO_CONNECTED,
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

    /** The invoice a payment names: its metadata's, or else its payment link's (found in {@code tx}). */
    private static Future<Optional<UUID>> invoiceOf(Tx tx, Route.Paid paid) {
        if (paid.link() == null) {
            return Future.succeededFuture(paid.invoice());
        }
        return tx.preparedQuery(INVOICE_FOR_LINK)
                .execute(Tuple.of(paid.link()))
                .map(rows -> Optional.ofNullable(rows.iterator().next().getUUID("invoice_id")));
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
    private Future<Void> invoicePaid(Tx tx, StripeEventStore.Claimed claimed, Route.Paid route) {
        return invoiceOf(tx, route).compose(invoice -> {
            Payment paid = route.payment();
            if (invoice.isEmpty()) {
                return events.done(tx, claimed, "ignored", NO_INVOICE, null);
            }
            if (paid.amount() == null || paid.currency() == null) {
                return events.done(tx, claimed, "ignored", NO_AMOUNT, null);
            }
            return markPaid(tx, claimed, route.connected(), invoice.get(), paid);
        });
    }

    private Future<Void> markPaid(
            Tx tx, StripeEventStore.Claimed claimed, String connected, UUID invoiceId, Payment paid) {
        OffsetDateTime paidAt = time(claimed.payload().getLong("created"));
        return invoices.markPaid(
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
                });
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
