package uk.co.tradersflow.data.invoices;

import io.vertx.core.Future;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeoutException;
import uk.co.tradersflow.audit.AuditEntry;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.db.OneBatchPerKey;
import uk.co.tradersflow.platform.db.OneBatchPerKey.Item;
import uk.co.tradersflow.platform.db.Tx;
import uk.co.tradersflow.platform.http.ClientInfo;
import uk.co.tradersflow.platform.http.PageRequest;
import uk.co.tradersflow.platform.security.Principal;

/**
 * The invoice's one owner: every change of an invoice (create, update, void, sent, payment link
 * attached, paid) is a method here, and only {@link InvoiceRepository} writes the
 * {@code invoices} table. Billing calls the transitions it drives ({@link #markSent},
 * {@link #attachPaymentLink}, {@link #markPaid}) inside its own transaction, so what it decides
 * and the invoice's change commit together.
 *
 * <p>Only a draft's content may change; the client may void a draft or a sent invoice; sending
 * and payment set {@code sent} and {@code paid}.
 */
public final class InvoiceService {
    /** Who asks, for the audit log: a signed-in user from some client. */
    public record Caller(Principal me, ClientInfo.Client client) {}

    public record CreateInvoice(Caller caller, InvoiceInput input) {}

    public record UpdateInvoice(Caller caller, UUID id, InvoiceInput input) {}

    /** The most creations of one account that share a transaction. */
    static final int MAX_CREATED_TOGETHER = 32;

    private final Db db;
    private final AuditLog audit;
    private final InvoiceRepository invoices = new InvoiceRepository();
    private final OneBatchPerKey<UUID, CreateInvoice, Invoice> creations =
            new OneBatchPerKey<>(MAX_CREATED_TOGETHER, Db.BORROW_TIMEOUT, this::createTogether);

    public InvoiceService(Db db, AuditLog audit) {
        this.db = db;
        this.audit = audit;
    }

    /** A page, newest first, as one statement returning the stored replies. */
    public Future<List<Invoice>> list(UUID accountId, PageRequest page, String status) {
        return invoices.list(db, accountId, page, status);
    }

    public Future<Invoice> find(UUID accountId, UUID id) {
        return db.readInAccount(accountId, tx -> invoices.find(tx, id));
    }

    /**
     * A new invoice under its account's next number. The number is taken under the account's
     * counter row lock, held until COMMIT, so creations of one account queue for it. On this
     * instance they queue here instead, without a connection each: one transaction at a time per
     * account, and those that arrived meanwhile go together in the next (up to {@link
     * #MAX_CREATED_TOGETHER}), numbered in the order they came. Alone, a creation runs at once.
     */
    public Future<Invoice> create(CreateInvoice cmd) {
        return creations.submit(cmd.caller().me().accountId(), cmd);
    }

    /**
     * One transaction for {@code batch}: each creation's outcome is settled once it has committed
     * (or not). A creation naming a customer or job that is not the account's fails alone, with
     * its 422; one that makes the database refuse a statement rolls back its neighbours too, so
     * then each is tried again alone, and only the one at fault fails. A database that does not
     * answer fails the batch and those queued behind it (503), each within the borrow timeout.
     */
    private Future<Void> createTogether(UUID accountId, List<Item<CreateInvoice, Invoice>> batch) {
        List<CreateInvoice> cmds = batch.stream().map(Item::command).toList();
        return db.inAccount(accountId, tx -> insertAll(tx, cmds)).transform(ar -> {
            if (ar.succeeded()) {
                for (int i = 0; i < batch.size(); i++) {
                    Future<Invoice> outcome = ar.result().get(i);
                    if (outcome.succeeded()) {
                        batch.get(i).succeed(outcome.result());
                    } else {
                        batch.get(i).fail(outcome.cause());
                    }
                }
                return Future.succeededFuture();
            }
            if (batch.size() > 1 && ar.cause() instanceof PgException) {
                Future<Void> each = Future.succeededFuture();
                for (Item<CreateInvoice, Invoice> item : batch) {
                    each = each.compose(v -> createTogether(accountId, List.of(item)));
                }
                return each;
            }
            batch.forEach(item -> item.fail(ar.cause()));
            if (!(ar.cause() instanceof PgException)) {
                // The database did not answer: creations queued behind this one would each wait
                // for it again, past the time a request may wait for the database.
                creations.failWaiting(
                        accountId,
                        new TimeoutException(
                                "the database did not answer a creation ahead of this one; nothing was saved"));
            }
            return Future.succeededFuture();
        });
    }

    /**
     * Creates {@code cmds} in {@code tx}, in two round trips whatever their number: every
     * creation's references checked and, where found, its number taken, in one statement; then, in
     * the second round trip, their audit entries appended by one statement and every invoice written
     * with its lines and its reply, rendered here, by another. One outcome per command, in order: the
     * invoice, or the 422 its references earned (which writes nothing and leaves the transaction to
     * the others).
     */
    private Future<List<Future<Invoice>>> insertAll(Tx tx, List<CreateInvoice> cmds) {
        List<InvoiceInput> inputs = cmds.stream().map(CreateInvoice::input).toList();
        return invoices.numberAll(tx, inputs).compose(numbered -> {
            List<InvoiceInput> kept = new ArrayList<>(cmds.size());
            List<InvoiceReply> replies = new ArrayList<>(cmds.size());
            List<AuditEntry> entries = new ArrayList<>(cmds.size());
            for (int i = 0; i < cmds.size(); i++) {
                if (numbered.get(i).succeeded()) {
                    InvoiceReply reply = InvoiceReply.ofNew(
                            UUID.randomUUID(), numbered.get(i).result(), inputs.get(i));
                    kept.add(inputs.get(i));
                    replies.add(reply);
                    entries.add(entry(
                            cmds.get(i).caller(), "invoice.created", reply.id(), reply.number(), reply.totalPence()));
                }
            }
            if (replies.isEmpty()) {
                return Future.succeededFuture(numbered.stream()
                        .<Future<Invoice>>map(n -> Future.failedFuture(n.cause()))
                        .toList());
            }
            Future<Void> audited = audit.appendAll(tx, entries);
            Future<List<Invoice>> created = invoices.createAll(tx, kept, replies);
            return Future.all(created, audited).map(v -> {
                Iterator<Invoice> invoicesInOrder = created.result().iterator();
                return numbered.stream()
                        .<Future<Invoice>>map(n -> n.succeeded()
                                ? Future.succeededFuture(invoicesInOrder.next())
                                : Future.failedFuture(n.cause()))
                        .toList();
            });
        });
    }

    /**
     * A PATCH: content changes of a draft, or voiding. A body naming no field it may change (only
     * unknown ones, say) changes nothing: no new version, which would retire the payment link the
     * customer was sent, and no audit entry.
     */
    public Future<Invoice> update(UpdateInvoice cmd) {
        InvoiceInput input = cmd.input();
        UUID id = cmd.id();
        boolean changes = input.changesContent() || input.hasStatus();
        return db.inAccount(cmd.caller().me().accountId(), tx -> invoices.lock(tx, id)
                .compose(v -> invoices.find(tx, id))
                .compose(existing -> !changes
                        ? Future.succeededFuture(existing)
                        : checkTransition(existing, input)
                                .compose(v -> requireReferences(tx, input))
                                .compose(v -> invoices.update(tx, id, input))
                                .compose(invoice -> audit.append(
                                                tx,
                                                entry(
                                                        cmd.caller(),
                                                        input.hasStatus() ? "invoice.voided" : "invoice.updated",
                                                        invoice))
                                        .map(invoice))));
    }

    /** Sent: a draft becomes {@code sent}; a sent invoice stays as it is. In the caller's transaction. */
    public Future<Void> markSent(Tx tx, UUID id) {
        return invoices.markSent(tx, id);
    }

    /**
     * The payment link made for {@code version} becomes the invoice's {@code paymentUrl}, unless
     * an edit has meanwhile made a newer version (whose reply must not show an older link).
     */
    public Future<Void> attachPaymentLink(Tx tx, UUID id, int version, String url) {
        return invoices.setPaymentUrl(tx, id, version, url);
    }

    /**
     * Paid, as the worker learns from Stripe: the row {@code billing_mark_invoice_paid} answers
     * (none when the invoice is not on that connected account), whose columns say whether this
     * payment paid it, was short, or is unexpected.
     */
    public Future<RowSet<Row>> markPaid(Tx tx, UUID id, StripePayment payment) {
        return invoices.markPaid(tx, id, payment);
    }

    private static Future<Void> checkTransition(Invoice existing, InvoiceInput input) {
        if (input.changesContent() && !existing.isDraft()) {
            return Future.failedFuture(AppError.of(
                    ErrorCode.CONFLICT, "Only a draft invoice can be changed; this one is " + existing.status()));
        }
        if (input.hasStatus() && !(existing.isDraft() || "sent".equals(existing.status()))) {
            return Future.failedFuture(
                    AppError.of(ErrorCode.CONFLICT, "A " + existing.status() + " invoice cannot be voided"));
        }
        return Future.succeededFuture();
    }

    /**
     * An edit's customer and job must be the caller's own: under RLS anything else simply does not
     * exist. (A creation checks its references as it takes its number: {@link InvoiceRepository#number}.)
     */
    private Future<Void> requireReferences(SqlConnection tx, InvoiceInput input) {
        Future<Boolean> customer = input.customerId().isEmpty()
                ? Future.succeededFuture(true)
                : invoices.exists(tx, "customers", input.customerId().get());
        Future<Boolean> job = input.jobId().isEmpty()
                ? Future.succeededFuture(true)
                : invoices.exists(tx, "jobs", input.jobId().get());
        return Future.all(customer, job)
                .compose(v -> customer.result() && job.result()
                        ? Future.<Void>succeededFuture()
                        : Future.failedFuture(InvoiceRepository.missingReferences(customer.result(), job.result())));
    }

    private static AuditEntry entry(Caller caller, String action, Invoice invoice) {
        return entry(caller, action, invoice.id(), invoice.number(), invoice.totalPence());
    }

    private static AuditEntry entry(Caller caller, String action, UUID id, int number, long totalPence) {
        return AuditEntry.byUser(caller.me(), caller.client(), action)
                .target("invoice", id)
                .detail("number", Invoice.formatNumber(number))
                .detail("totalPence", totalPence);
    }
}
