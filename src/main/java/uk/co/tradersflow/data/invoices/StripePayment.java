package uk.co.tradersflow.data.invoices;

import java.time.OffsetDateTime;

/**
 * A payment Stripe reports for an invoice: on which connected account, when, how much in which
 * currency ({@code amount} in the currency's minor unit), and Stripe's id for it. Billing hands it
 * to {@link InvoiceService#markPaid}, which decides whether it pays the invoice.
 */
public record StripePayment(
        String connectedAccount, OffsetDateTime paidAt, Long amount, String currency, String paymentId) {}
