package uk.co.tradersflow.billing;

import static io.vertx.core.http.HttpMethod.POST;

import com.stripe.model.PaymentLink;
import com.stripe.param.PaymentLinkCreateParams;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import uk.co.tradersflow.audit.AuditEntry;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.platform.security.Principal;
import uk.co.tradersflow.data.invoices.Invoice;
import uk.co.tradersflow.email.EmailOutbox;
import uk.co.tradersflow.email.OutgoingEmail;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.error.FieldError;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.db.Tx;
import uk.co.tradersflow.platform.http.Api;
import uk.co.tradersflow.platform.http.ClientInfo;
import uk.co.tradersflow.platform.http.RouteModule;

/**
 * {@code POST /api/v1/invoices/{id}/payment-link} and {@code /send}: a Stripe-hosted payment page
 * on the tradesperson's connected account ({@code Stripe-Account}), one per invoice version
 * (idempotency key {@code tf-paylink-<id>-v<version>}), carrying the invoice id in metadata so the
 * payment event can mark it paid; and the invoice email, queued once per version, with that
 * link when billing is configured and without one (bank transfer) when it is not.
 */
public final class InvoicePaymentRoutes implements RouteModule {
  private static final String INVOICE = """
      SELECT i.id, i.number, i.status, i.currency, i.total_pence, i.due_date, i.payment_url, i.version,
             c.name AS customer_name, c.email AS customer_email, a.business_name,
             (SELECT l.url FROM invoice_payment_links l WHERE l.invoice_id = i.id AND l.invoice_version = i.version) AS link_url
        FROM invoices i JOIN customers c ON c.id = i.customer_id AND c.account_id = i.account_id
        JOIN accounts a ON a.id = i.account_id
       WHERE i.id = $1""";
  private static final String LINES = """
      SELECT description, quantity, unit_pence FROM invoice_lines WHERE invoice_id = $1 ORDER BY position""";
  private static final String SAVE_LINK = """
      INSERT INTO invoice_payment_links (invoice_id, invoice_version, payment_link_id, url) VALUES ($1, $2, $3, $4)
      ON CONFLICT DO NOTHING""";
  private static final String SET_URL = "UPDATE invoices SET payment_url = $2 WHERE id = $1 AND version = $3";
  private static final String MARK_SENT = "UPDATE invoices SET status = 'sent', updated_at = now() WHERE id = $1 AND status = 'draft'";

  /** Stripe's largest amount for one payment, in the currency's smallest unit. */
  static final long MAX_CARD_PAYMENT = 99_999_999L;

  private final Db db;
  private final StripeGateway stripe;
  private final AuditLog audit;
  private final EmailOutbox outbox;
  private final BillingRepository billing = new BillingRepository();
  private Api api;

  public InvoicePaymentRoutes(Db db, StripeGateway stripe, AuditLog audit, EmailOutbox outbox) {
    this.db = db;
    this.stripe = stripe;
    this.audit = audit;
    this.outbox = outbox;
  }

  @Override
  public void mount(Router router, Api api) {
    this.api = api;
    api.authenticated(router, POST, "/api/v1/invoices/:id/payment-link").handler(this::paymentLink);
    api.authenticated(router, POST, "/api/v1/invoices/:id/send").handler(this::send);
  }

  private record Target(Row invoice, BillingAccount billing) {}

  private void paymentLink(RoutingContext ctx) {
    UUID id = Api.pathId(ctx, "id");
    Principal me = Principal.of(ctx);
    Api.reply(ctx, stripe.requireConfigured().compose(v -> ensureLink(me, api.clients().of(ctx), id)), 200,
        BillingRoutes::url);
  }

  private void send(RoutingContext ctx) {
    UUID id = Api.pathId(ctx, "id");
    Principal me = Principal.of(ctx);
    ClientInfo.Client client = api.clients().of(ctx);
    // Without Stripe the invoice still goes out, for payment by bank transfer: only the payment
    // link needs billing, and a tradesperson who takes no cards must still be able to invoice.
    boolean cardPayments = stripe.configured();
    Future<JsonObject> sent = db.inAccount(me.accountId(), tx -> load(tx, me.accountId(), id))
        .compose(t -> {
          if (t.invoice().getString("customer_email") == null || t.invoice().getString("customer_email").isBlank()) {
            return Future.failedFuture(AppError.validation(List.of(new FieldError("customerId", "the customer has no email address"))));
          }
          return cardPayments ? ensureLink(me, client, id) : Future.<String>succeededFuture(null);
        })
        .compose(url -> db.inAccount(me.accountId(), tx -> load(tx, me.accountId(), id).compose(t -> {
          Row inv = t.invoice();
          int version = inv.getInteger("version");
          // An edit committed between making the link and now: that link is already being switched
          // off, and this version's email must carry this version's link.
          if (cardPayments && inv.getString("link_url") == null) {
            return Future.failedFuture(AppError.of(ErrorCode.CONFLICT, "The invoice changed while it was being sent; send it again"));
          }
          return tx.preparedQuery(LINES).execute(Tuple.of(id)).compose(lines -> {
            JsonArray items = new JsonArray();
            lines.forEach(l -> items.add(new JsonObject().put("description", l.getString("description"))
                .put("quantity", l.getBigDecimal("quantity").stripTrailingZeros().toPlainString())
                .put("unitPence", l.getLong("unit_pence"))));
            String paymentUrl = cardPayments ? inv.getString("link_url") : null;
            JsonObject model = new JsonObject()
                .put("businessName", inv.getString("business_name"))
                .put("customerName", inv.getString("customer_name"))
                .put("invoiceNumber", Invoice.formatNumber(inv.getInteger("number")))
                .put("totalPence", inv.getLong("total_pence"))
                .put("currency", inv.getString("currency"))
                .put("dueDate", inv.getLocalDate("due_date") == null ? null : inv.getLocalDate("due_date").toString())
                .put("paymentUrl", paymentUrl)
                .put("lines", items);
            return outbox.enqueue(tx, OutgoingEmail.of("invoice", inv.getString("customer_email"), model,
                "invoice:" + id + ":v" + version, me.accountId()));
          }).compose(queued -> tx.preparedQuery(MARK_SENT).execute(Tuple.of(id))
              .compose(v -> queued.isEmpty() ? Future.succeededFuture()
                  : audit.append(tx, AuditEntry.byUser(me, client, "invoice.sent").target("invoice", id)
                      .detail("version", version)))
              .map(v -> new JsonObject().put("id", id.toString()).put("status", "sent").put("queued", queued.isPresent())));
        })));
    Api.reply(ctx, sent, 202, json -> json);
  }

  private Future<Target> load(SqlConnection tx, UUID account, UUID id) {
    return tx.preparedQuery(INVOICE).execute(Tuple.of(id)).compose(rows -> {
      if (rows.size() == 0) {
        return Future.failedFuture(AppError.notFound());
      }
      Row inv = rows.iterator().next();
      String status = inv.getString("status");
      if (status.equals("paid") || status.equals("void")) {
        return Future.failedFuture(AppError.of(ErrorCode.CONFLICT, "The invoice is " + status));
      }
      return billing.find(tx, account).map(b -> new Target(inv, b));
    });
  }

  /** The current version's payment link, created on the connected account if it has none yet. */
  private Future<String> ensureLink(Principal me, ClientInfo.Client client, UUID id) {
    return db.inAccount(me.accountId(), tx -> load(tx, me.accountId(), id)).compose(t -> {
      Row inv = t.invoice();
      if (inv.getString("link_url") != null) {
        return Future.succeededFuture(inv.getString("link_url"));
      }
      BillingAccount b = t.billing();
      if (b.connectAccountId().isEmpty() || !b.chargesEnabled()) {
        return Future.failedFuture(AppError.of(ErrorCode.CONNECT_NOT_READY,
            "Finish Stripe onboarding before taking card payments"));
      }
      String connected = b.connectAccountId().get();
      int version = inv.getInteger("version");
      String number = Invoice.formatNumber(inv.getInteger("number"));
      long total = inv.getLong("total_pence");
      if (total <= 0) {
        return Future.failedFuture(AppError.of(ErrorCode.CONFLICT, "An invoice with nothing to pay needs no payment link"));
      }
      // Stripe refuses larger amounts; saying so beats a 503 that suggests trying again.
      if (total > MAX_CARD_PAYMENT) {
        return Future.failedFuture(AppError.of(ErrorCode.CONFLICT,
            "This invoice is more than one card payment can take (99,999,999 in the smallest unit); ask for a bank transfer"));
      }
      PaymentLinkCreateParams params = PaymentLinkCreateParams.builder()
          .addLineItem(PaymentLinkCreateParams.LineItem.builder().setQuantity(1L)
              .setPriceData(PaymentLinkCreateParams.LineItem.PriceData.builder()
                  .setCurrency(inv.getString("currency").toLowerCase(Locale.ROOT))
                  .setUnitAmount(total)
                  .setProductData(PaymentLinkCreateParams.LineItem.PriceData.ProductData.builder()
                      .setName(inv.getString("business_name") + " invoice " + number).build())
                  .build())
              .build())
          // One payment per link: a customer who opens the email twice cannot pay twice.
          .setRestrictions(PaymentLinkCreateParams.Restrictions.builder()
              .setCompletedSessions(PaymentLinkCreateParams.Restrictions.CompletedSessions.builder().setLimit(1L).build())
              .build())
          .putMetadata("tf_invoice_id", id.toString())
          .putMetadata("tf_account_id", me.accountId().toString())
          .setPaymentIntentData(PaymentLinkCreateParams.PaymentIntentData.builder()
              .putMetadata("tf_invoice_id", id.toString()).build())
          .build();
      return stripe.call("payment_links.create", c -> c.v1().paymentLinks().create(params,
              StripeGateway.onConnected(connected, "tf-paylink-" + id + "-v" + version)))
          .compose(link -> db.inAccount(me.accountId(), tx -> saveLink(tx, me, client, id, version, link)));
    });
  }

  private Future<String> saveLink(Tx tx, Principal me, ClientInfo.Client client, UUID id, int version, PaymentLink link) {
    return tx.preparedQuery(SAVE_LINK).execute(Tuple.of(id, version, link.getId(), link.getUrl()))
        .compose(v -> tx.preparedQuery(SET_URL).execute(Tuple.of(id, link.getUrl(), version)))
        .compose(v -> audit.append(tx, AuditEntry.byUser(me, client, "invoice.payment_link_created").target("invoice", id)
            .detail("version", version)))
        .map(link.getUrl());
  }
}
