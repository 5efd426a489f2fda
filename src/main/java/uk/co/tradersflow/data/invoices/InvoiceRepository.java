package uk.co.tradersflow.data.invoices;

import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.FieldError;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.db.Rows;
import uk.co.tradersflow.platform.db.ScopedRead;
import uk.co.tradersflow.platform.http.PageRequest;

/**
 * All SQL that reads or writes {@code invoices}, run inside {@code Db.inAccount} (or the worker's
 * transaction, for a payment); the page is one statement of its own ({@code Db.read}, sql/V024).
 * Each invoice row carries its whole reply already rendered, lines included ({@code body_json},
 * sql/V015, V025 and V029), so a page of 20 invoices reads one index range of one table and is
 * written out as it comes. A creation writes its row once, reply included ({@link #create},
 * sql/V047); every other write ends by rendering the reply it left pending ({@link
 * #renderPending}): the database refuses to commit an invoice whose reply was left pending.
 */
final class InvoiceRepository {
    private static final ScopedRead PAGE = ScopedRead.of("invoice_page", 4, Invoice.COLUMNS);

    private static final String FIND = "SELECT %s FROM invoices WHERE id = $1".formatted(Invoice.COLUMNS);

    // Taken before a PATCH checks the status, so a send or a payment cannot slip in between the
    // check and the update.
    private static final String LOCK = "SELECT id FROM invoices WHERE id = $1 FOR UPDATE";

    // A batch's first statement: each creation's customer and job (if any) must be the caller's
    // own, which under RLS means they exist at all. A creation with either missing takes no number
    // and its answer says which was missing; the others go on. Those found take the account's next
    // numbers, in the batch's order, by one update of the counter. The counter row stays locked until
    // this transaction ends: concurrent batches for one account queue here, and a rolled-back batch
    // hands its numbers back, so numbers are gap-free. With the numbers come what the replies need
    // from the database: the transaction's time (the invoices' createdAt) and each creation's lines as
    // the database renders them (sql/V047, V051), so the server renders every reply before the
    // invoices are written. A function of the caller's rights (sql/V053) only so that PostgreSQL
    // keeps one plan for it: sent as a statement, it was planned again on every batch. $1, $2:
    // customers and jobs, a creation each; $3-$6: lines, each naming its creation (1 for the first).
    private static final String NUMBER_ALL = "SELECT * FROM invoice_number_all($1, $2, $3, $4, $5, $6)";

    // The batch's invoices, their lines and their rendered replies, written by one statement
    // (sql/V052). Everything up to COMMIT runs under the counter's lock, so it goes with the audit
    // entries in one round trip.
    private static final String CREATE_ALL =
            "SELECT * FROM invoice_create_many($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";

    // An edit's new lines, once the old ones are deleted.
    private static final String INSERT_LINES =
            """
      INSERT INTO invoice_lines (invoice_id, position, description, quantity, unit_pence)
      SELECT $1, t.ord - 1, t.description, t.quantity::numeric, t.unit_pence
        FROM unnest($2::text[], $3::text[], $4::bigint[]) WITH ORDINALITY AS t(description, quantity, unit_pence, ord)""";

    private static final String DELETE_LINES = "DELETE FROM invoice_lines WHERE invoice_id = $1";

    private static final String UPDATE =
            """
      UPDATE invoices SET
        customer_id = CASE WHEN $2 THEN $3 ELSE customer_id END,
        job_id      = CASE WHEN $4 THEN $5 ELSE job_id END,
        currency    = CASE WHEN $6 THEN coalesce($7, 'GBP') ELSE currency END,
        due_date    = CASE WHEN $8 THEN $9 ELSE due_date END,
        total_pence = CASE WHEN $10 THEN $11 ELSE total_pence END,
        status      = CASE WHEN $12 THEN $13 ELSE status END,
        version = version + 1,
        updated_at = now()
       WHERE id = $1""";

    // Sending moves a draft on; sending again (an email for a new version) leaves it sent.
    private static final String MARK_SENT =
            "UPDATE invoices SET status = 'sent', updated_at = now() WHERE id = $1 AND status = 'draft'";

    // Only the version the link was made for: an edit since then made a newer one, and retired the link.
    private static final String SET_PAYMENT_URL = "UPDATE invoices SET payment_url = $2 WHERE id = $1 AND version = $3";

    // SECURITY DEFINER (sql/V021): the worker reaches the invoice through the connected account that
    // was paid, and the function judges the payment under the invoice's row lock.
    private static final String MARK_PAID = "SELECT * FROM billing_mark_invoice_paid($1, $2, $3, $4, $5, $6)";

    // The row as the renderer reads it, when a write of this transaction left its reply pending;
    // and the rendered reply stored (sql/V029). Both SECURITY DEFINER, so the worker can use them.
    private static final String RENDER_PENDING = "SELECT * FROM invoice_render_pending($1)";
    private static final String STORE_REPLY = "SELECT %s FROM invoice_store_reply($1, $2)".formatted(Invoice.COLUMNS);

    private static final String EXISTS = "SELECT EXISTS (SELECT 1 FROM %s WHERE id = $1) AS found";

    /** A page, newest first, through the function that scopes itself (one statement, no transaction). */
    Future<List<Invoice>> list(Db db, UUID accountId, PageRequest page, String status) {
        return db.read(
                        PAGE,
                        accountId,
                        Tuple.of(Rows.utc(page.afterCreatedAt()), page.afterId(), page.fetchSize(), status))
                .map(rows -> Rows.all(rows, Invoice::from));
    }

    Future<Invoice> find(SqlConnection tx, UUID id) {
        return tx.preparedQuery(FIND).execute(Tuple.of(id)).map(rows -> Rows.one(rows, Invoice::from));
    }

    /** Locks the invoice row for the rest of the transaction; 404 when there is none (or it is not yours). */
    Future<Void> lock(SqlConnection tx, UUID id) {
        return tx.preparedQuery(LOCK).execute(Tuple.of(id)).map(rows -> {
            if (rows.size() == 0) {
                throw AppError.notFound();
            }
            return null;
        });
    }

    /** Under RLS, "exists" means "exists in the caller's account". */
    Future<Boolean> exists(SqlConnection tx, String table, UUID id) {
        return tx.preparedQuery(EXISTS.formatted(table))
                .execute(Tuple.of(id))
                .map(rows -> rows.iterator().next().getBoolean("found"));
    }

    /**
     * Each creation's number, and what its reply needs from the database, in the order of {@code
     * inputs}; or, for a creation whose customer or job is not the caller's, no number taken and the
     * 422 that says which. One statement for the batch.
     */
    Future<List<Future<Numbered>>> numberAll(SqlConnection tx, List<InvoiceInput> inputs) {
        UUID[] customers =
                inputs.stream().map(in -> in.customerId().orElseThrow()).toArray(UUID[]::new);
        UUID[] jobs = inputs.stream().map(in -> in.jobId().orElse(null)).toArray(UUID[]::new);
        return tx.preparedQuery(NUMBER_ALL)
                .execute(BatchLines.of(inputs)
                        .appendTo(Tuple.tuple().addArrayOfUUID(customers).addArrayOfUUID(jobs)))
                .map(rows -> {
                    List<Future<Numbered>> numbered = new ArrayList<>(inputs.size());
                    for (Row r : rows) {
                        boolean customerFound = r.getBoolean("customer_found");
                        boolean jobFound = r.getBoolean("job_found");
                        numbered.add(
                                customerFound && jobFound
                                        ? Future.succeededFuture(new Numbered(
                                                r.getInteger("number"),
                                                Rows.instant(r, "created_at"),
                                                r.getString("lines_json")))
                                        : Future.failedFuture(missingReferences(customerFound, jobFound)));
                    }
                    return numbered;
                });
    }

    /** A number taken for a creation, with the transaction's time and the lines as the database renders them. */
    record Numbered(int number, Instant createdAt, String linesJson) {}

    /**
     * Writes the invoices numbered by {@link #numberAll}, each with its lines and its reply, rendered
     * from the same input: {@code replies.get(i)} is {@code inputs.get(i)}'s. One statement for the
     * batch; the invoices in the order of {@code replies}.
     */
    Future<List<Invoice>> createAll(SqlConnection tx, List<InvoiceInput> inputs, List<InvoiceReply> replies) {
        Tuple args = Tuple.tuple()
                .addArrayOfUUID(replies.stream().map(InvoiceReply::id).toArray(UUID[]::new))
                .addArrayOfInteger(replies.stream().map(InvoiceReply::number).toArray(Integer[]::new))
                .addArrayOfUUID(replies.stream().map(InvoiceReply::customerId).toArray(UUID[]::new))
                .addArrayOfUUID(replies.stream().map(InvoiceReply::jobId).toArray(UUID[]::new))
                .addArrayOfString(replies.stream().map(InvoiceReply::currency).toArray(String[]::new))
                .addArrayOfLocalDate(replies.stream().map(InvoiceReply::dueDate).toArray(LocalDate[]::new))
                .addArrayOfLong(replies.stream().map(InvoiceReply::totalPence).toArray(Long[]::new))
                .addArrayOfString(replies.stream().map(InvoiceReply::render).toArray(String[]::new));
        // One transaction, one time: every reply of the batch carries it.
        OffsetDateTime createdAt = Rows.utc(replies.get(0).createdAt());
        return tx.preparedQuery(CREATE_ALL)
                .execute(BatchLines.of(inputs).appendTo(args).addOffsetDateTime(createdAt))
                .map(rows -> {
                    Map<UUID, Invoice> byId = new HashMap<>();
                    for (Row r : rows) {
                        Invoice invoice = Invoice.from(r);
                        byId.put(invoice.id(), invoice);
                    }
                    List<Invoice> inOrder = new ArrayList<>(replies.size());
                    for (InvoiceReply reply : replies) {
                        Invoice invoice = byId.get(reply.id());
                        if (invoice == null) {
                            throw new IllegalStateException("invoice_create_many answered " + byId.size() + " of "
                                    + replies.size() + " invoices");
                        }
                        inOrder.add(invoice);
                    }
                    return inOrder;
                });
    }

    /** The 422 of a customer or job that is not the caller's (for an edit's check too). */
    static AppError missingReferences(boolean customerFound, boolean jobFound) {
        List<FieldError> errors = new ArrayList<>();
        if (!customerFound) {
            errors.add(new FieldError("customerId", "no such customer"));
        }
        if (!jobFound) {
            errors.add(new FieldError("jobId", "no such job"));
        }
        return AppError.validation(errors);
    }

    Future<Invoice> update(SqlConnection tx, UUID id, InvoiceInput in) {
        Tuple args = Tuple.tuple()
                .addUUID(id)
                .addBoolean(in.hasCustomerId())
                .addUUID(in.customerId().orElse(null))
                .addBoolean(in.hasJobId())
                .addUUID(in.jobId().orElse(null))
                .addBoolean(in.hasCurrency())
                .addString(in.currency().orElse(null))
                .addBoolean(in.hasDueDate())
                .addLocalDate(in.dueDate().orElse(null))
                .addBoolean(in.hasLines())
                .addLong(InvoiceLine.total(in.lines()))
                .addBoolean(in.hasStatus())
                .addString(in.status().map(InvoiceStatus::dbValue).orElse(null));
        Future<?> lines = in.hasLines()
                ? tx.preparedQuery(DELETE_LINES).execute(Tuple.of(id)).compose(v -> insertLines(tx, id, in.lines()))
                : Future.succeededFuture();
        return lines.compose(v -> tx.preparedQuery(UPDATE).execute(args)).compose(v -> rendered(tx, id));
    }

    Future<Void> markSent(SqlConnection tx, UUID id) {
        return tx.preparedQuery(MARK_SENT)
                .execute(Tuple.of(id))
                .compose(v -> renderPending(tx, id))
                .mapEmpty();
    }

    Future<Void> setPaymentUrl(SqlConnection tx, UUID id, int version, String url) {
        return tx.preparedQuery(SET_PAYMENT_URL)
                .execute(Tuple.of(id, url, version))
                .compose(v -> renderPending(tx, id))
                .mapEmpty();
    }

    Future<RowSet<Row>> markPaid(SqlConnection tx, UUID id, StripePayment p) {
        return tx.preparedQuery(MARK_PAID)
                .execute(Tuple.of(id, p.connectedAccount(), p.paidAt(), p.amount(), p.currency(), p.paymentId()))
                .compose(rows -> renderPending(tx, id).map(rows));
    }

    /**
     * Renders and stores the invoice's reply if a write of this transaction left it pending (one
     * that changed nothing the reply shows leaves it as it was): the invoice as stored, or empty.
     * Runs after the transaction's last write to the invoice, lines included.
     */
    Future<Optional<Invoice>> renderPending(SqlConnection tx, UUID id) {
        return tx.preparedQuery(RENDER_PENDING)
                .execute(Tuple.of(id))
                .compose(rows -> rows.size() == 0
                        ? Future.succeededFuture(Optional.empty())
                        : tx.preparedQuery(STORE_REPLY)
                                .execute(Tuple.of(
                                        id,
                                        InvoiceReply.from(rows.iterator().next())
                                                .render()))
                                .map(stored -> Optional.of(Rows.one(stored, Invoice::from))));
    }

    /** The invoice after a write: rendered now, or as it was when the write changed nothing it shows. */
    private Future<Invoice> rendered(SqlConnection tx, UUID id) {
        return renderPending(tx, id).compose(r -> r.isPresent() ? Future.succeededFuture(r.get()) : find(tx, id));
    }

    private Future<Void> insertLines(SqlConnection tx, UUID invoiceId, List<InvoiceLine> lines) {
        if (lines.isEmpty()) {
            return Future.succeededFuture();
        }
        return tx.preparedQuery(INSERT_LINES)
                .execute(LineColumns.of(lines).appendTo(Tuple.of(invoiceId)))
                .mapEmpty();
    }

    /**
     * The lines of a batch's creations as its statements take them: four arrays, each line's creation
     * (its place in the batch, from 1), description, quantity (as text) and unit price.
     */
    record BatchLines(Integer[] owners, LineColumns columns) {
        static BatchLines of(List<InvoiceInput> inputs) {
            List<Integer> owners = new ArrayList<>();
            List<InvoiceLine> lines = new ArrayList<>();
            for (int i = 0; i < inputs.size(); i++) {
                for (InvoiceLine line : inputs.get(i).lines()) {
                    owners.add(i + 1);
                    lines.add(line);
                }
            }
            return new BatchLines(owners.toArray(Integer[]::new), LineColumns.of(lines));
        }

        /** {@code args} and then the four arrays. */
        Tuple appendTo(Tuple args) {
            return columns.appendTo(args.addArrayOfInteger(owners));
        }
    }

    /** Lines as the statements take them: three arrays, descriptions, quantities (as text), unit prices. */
    record LineColumns(String[] descriptions, String[] quantities, Long[] unitPence) {
        static LineColumns of(List<InvoiceLine> lines) {
            return new LineColumns(
                    lines.stream().map(InvoiceLine::description).toArray(String[]::new),
                    lines.stream().map(l -> l.quantity().toPlainString()).toArray(String[]::new),
                    lines.stream().map(InvoiceLine::unitPence).toArray(Long[]::new));
        }

        /** {@code args} and then the three arrays. */
        Tuple appendTo(Tuple args) {
            return args.addArrayOfString(descriptions)
                    .addArrayOfString(quantities)
                    .addArrayOfLong(unitPence);
        }
    }
}
