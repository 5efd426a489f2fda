package uk.co.tradersflow.billing;

import com.stripe.model.PaymentLink;
import com.stripe.param.PaymentLinkCreateParams;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;
import uk.co.tradersflow.audit.AuditEntry;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.billing.InvoicePaymentRepository.Sendable;
import uk.co.tradersflow.data.invoices.Invoice;
import uk.co.tradersflow.data.invoices.InvoiceService;
import uk.co.tradersflow.email.EmailOutbox;
import uk.co.tradersflow.email.OutgoingEmail;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.error.FieldError;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.db.Tx;
import uk.co.tradersflow.platform.http.ClientInfo;
import uk.co.tradersflow.platform.security.Principal;

/**
 * Getting an invoice paid: a Stripe-hosted payment page on the tradesperson's connected account
 * ({@code Stripe-Account}), one per invoice version (idempotency key
 * {@code tf-paylink-<id>-v<version>}), carrying the invoice id in metadata so the payment event
 * can mark it paid; and the invoice email, queued once per version, with that link when billing
 * is configured and without one (bank transfer) when it is not. The invoice's own changes (sent,
 * its payment link) are {@link InvoiceService}'s.
 *
 * <p>The Stripe call runs between transactions, never inside one: a link is looked for (and the
 * invoice checked) in one, made at Stripe, and recorded in another. Sending then queues the email
 * and marks the invoice sent in a last one.
 */
public final class InvoicePaymentService {
    /** Stripe's largest amount for one payment, in the currency's smallest unit. */
    static final long MAX_CARD_PAYMENT = 99_999_999L;

    /** An invoice of the caller's account, asked about by a signed-in user from some client. */
    public record InvoiceRequest(Principal me, ClientInfo.Client client, UUID invoiceId) {}

    /** The send's answer: {@code queued} is false when this version's email had already been queued. */
    public record Sent(UUID id, boolean queued) {}

    private final Db db;
    private final StripeGateway stripe;
    private final AuditLog audit;
    private final EmailOutbox outbox;
    private final InvoiceService invoices;
    private final InvoicePaymentRepository sending = new InvoicePaymentRepository();
    private final BillingRepository billing = new BillingRepository();

    public InvoicePaymentService(
            Db db, StripeGateway stripe, AuditLog audit, EmailOutbox outbox, InvoiceService invoices) {
        this.db = db;
        this.stripe = stripe;
        this.audit = audit;
        this.outbox = outbox;
        this.invoices = invoices;
    }

    /** The current version's payment link, made on the connected account if it has none yet. */
    public Future<String> paymentLink(InvoiceRequest req) {
        return stripe.requireConfigured().compose(v -> ensureLink(req, false));
    }

    /**
     * Sends the invoice: its current version's payment link (made if missing) when card payments
     * are configured, then the email and the {@code sent} status together. Without Stripe the
     * invoice still goes out, for payment by bank transfer: only the payment link needs billing, and
     * a tradesperson who takes no cards must still be able to invoice. The same version sent twice
     * queues one email.
     */
    public Future<Sent> send(InvoiceRequest req) {
        boolean cardPayments = stripe.configured();
        Future<Optional<String>> link =
                cardPayments ? ensureLink(req, true).map(Optional::of) : Future.succeededFuture(Optional.empty());
        return link.compose(
                v -> db.inAccount(req.me().accountId(), tx -> queueEmailAndMarkSent(tx, req, cardPayments)));
    }

    /**
     * The current version's payment link. No Stripe call is made with a database connection held
     * (issue 16): the invoice and billing row are read in one transaction, the link is made at
     * Stripe with none, and recorded in another. Two requests at once make one link: its
     * Idempotency-Key is fixed per invoice version ({@code tf-paylink-<invoice>-v<version>}).
     */
    private Future<String> ensureLink(InvoiceRequest req, boolean forSending) {
        UUID account = req.me().accountId();
        return db.inAccount(account, tx -> loadOpen(tx, req.invoiceId())
                        .compose(inv -> forSending ? requireCustomerEmail(inv) : Future.succeededFuture(inv))
                        .compose(inv -> billing.find(tx, account).map(b -> new Target(inv, b))))
                .compose(t -> t.invoice().linkUrl().isPresent()
                        ? Future.succeededFuture(t.invoice().linkUrl().get())
                        : requireCardPayable(t)
                                .compose(connected -> createStripeLink(req, t.invoice(), connected))
                                .compose(link -> recordLink(req, t.invoice().version(), link)));
    }

    private record Target(Sendable invoice, BillingAccount billing) {}

    /** The invoice, unless it is paid or void: neither is sent again nor paid by card. */
    private Future<Sendable> loadOpen(Tx tx, UUID id) {
        return sending.find(tx, id)
                .compose(inv -> inv.status().equals("paid") || inv.status().equals("void")
                        ? Future.failedFuture(AppError.of(ErrorCode.CONFLICT, "The invoice is " + inv.status()))
                        : Future.succeededFuture(inv));
    }

    private static Future<Sendable> requireCustomerEmail(Sendable inv) {
        return inv.customerEmail().isPresent()
                ? Future.succeededFuture(inv)
                : Future.failedFuture(AppError.validation(
                        List.of(new FieldError("customerId", "the customer has no email address"))));
    }

    /** The connected account to charge on, if it may take this invoice's payment by card. */
    private static Future<String> requireCardPayable(Target t) {
        BillingAccount b = t.billing();
        if (b.connectAccountId().isEmpty() || !b.chargesEnabled()) {
            return Future.failedFuture(
                    AppError.of(ErrorCode.CONNECT_NOT_READY, "Finish Stripe onboarding before taking card payments"));
        }
        long total = t.invoice().totalPence();
        if (total <= 0) {
            return Future.failedFuture(
                    AppError.of(ErrorCode.CONFLICT, "An invoice with nothing to pay needs no payment link"));
        }
        // Stripe refuses larger amounts; saying so beats a 503 that suggests trying again.
        if (total > MAX_CARD_PAYMENT) {
            return Future.failedFuture(
                    AppError.of(
                            ErrorCode.CONFLICT,
                            "This invoice is more than one card payment can take (99,999,999 in the smallest unit); ask for a bank transfer"));
        }
        return Future.succeededFuture(b.connectAccountId().get());
    }

    private Future<PaymentLink> createStripeLink(InvoiceRequest req, Sendable inv, String connected) {
        UUID id = inv.id();
        PaymentLinkCreateParams params = PaymentLinkCreateParams.builder()
                .addLineItem(PaymentLinkCreateParams.LineItem.builder()
                        .setQuantity(1L)
                        .setPriceData(PaymentLinkCreateParams.LineItem.PriceData.builder()
                                .setCurrency(inv.currency().toLowerCase(Locale.ROOT))
                                .setUnitAmount(inv.totalPence())
                                .setProductData(PaymentLinkCreateParams.LineItem.PriceData.ProductData.builder()
                                        .setName(inv.businessName() + " invoice " + Invoice.formatNumber(inv.number()))
                                        .build())
                                .build())
                        .build())
                // One payment per link: a customer who opens the email twice cannot pay twice.
                .setRestrictions(PaymentLinkCreateParams.Restrictions.builder()
                        .setCompletedSessions(PaymentLinkCreateParams.Restrictions.CompletedSessions.builder()
                                .setLimit(1L)
                                .build())
                        .build())
                .putMetadata("tf_invoice_id", id.toString())
                .putMetadata("tf_account_id", req.me().accountId().toString())
                .setPaymentIntentData(PaymentLinkCreateParams.PaymentIntentData.builder()
                        .putMetadata("tf_invoice_id", id.toString())
                        .build())
                .build();
        return stripe.call("payment_links.create", c -> c.v1().paymentLinks()
                .create(params, StripeGateway.onConnected(connected, "tf-paylink-" + id + "-v" + inv.version())));
    }

    /** Records the link Stripe made, in its own transaction so that it is kept whatever follows. */
    private Future<String> recordLink(InvoiceRequest req, int version, PaymentLink link) {
        UUID id = req.invoiceId();
        return db.inAccount(req.me().accountId(), tx -> sending.saveLink(tx, id, version, link.getId(), link.getUrl())
                .compose(v -> invoices.attachPaymentLink(tx, id, version, link.getUrl()))
                .compose(v -> audit.append(
                        tx,
                        AuditEntry.byUser(req.me(), req.client(), "invoice.payment_link_created")
                                .target("invoice", id)
                                .detail("version", version)))
                .map(link.getUrl()));
    }

    private Future<Sent> queueEmailAndMarkSent(Tx tx, InvoiceRequest req, boolean cardPayments) {
        UUID id = req.invoiceId();
        return loadOpen(tx, id)
                .compose(InvoicePaymentService::requireCustomerEmail)
                .compose(inv -> {
                    // An edit committed between making the link and now: that link is already being switched
                    // off, and this version's email must carry this version's link.
                    if (cardPayments && inv.linkUrl().isEmpty()) {
                        return Future.failedFuture(AppError.of(
                                ErrorCode.CONFLICT, "The invoice changed while it was being sent; send it again"));
                    }
                    return queueEmail(tx, req, inv, cardPayments ? inv.linkUrl() : Optional.empty())
                            .compose(queued -> invoices.markSent(tx, id)
                                    .compose(v -> queued.isEmpty()
                                            ? Future.<Void>succeededFuture()
                                            : audit.append(
                                                    tx,
                                                    AuditEntry.byUser(req.me(), req.client(), "invoice.sent")
                                                            .target("invoice", id)
                                                            .detail("version", inv.version())))
                                    .map(v -> new Sent(id, queued.isPresent())));
                });
    }

    /** The invoice email, once per version (its dedupe key): empty when this version's was already queued. */
    private Future<Optional<UUID>> queueEmail(Tx tx, InvoiceRequest req, Sendable inv, Optional<String> paymentUrl) {
        return sending.emailLines(tx, inv.id()).compose(lines -> {
            JsonObject model = new JsonObject()
                    .put("businessName", inv.businessName())
                    .put("customerName", inv.customerName())
                    .put("invoiceNumber", Invoice.formatNumber(inv.number()))
                    .put("totalPence", inv.totalPence())
                    .put("currency", inv.currency())
                    .put("dueDate", inv.dueDate().map(Object::toString).orElse(null))
                    .put("paymentUrl", paymentUrl.orElse(null))
                    .put("lines", lines);
            return outbox.enqueue(
                    tx,
                    OutgoingEmail.of(
                            "invoice",
                            inv.customerEmail().orElseThrow(),
                            model,
                            "invoice:" + inv.id() + ":v" + inv.version(),
                            req.me().accountId()));
        });
    }
}
