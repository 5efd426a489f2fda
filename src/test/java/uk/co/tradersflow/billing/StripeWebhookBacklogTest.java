package uk.co.tradersflow.billing;

import static org.assertj.core.api.Assertions.assertThat;
import static uk.co.tradersflow.billing.BillingFixtures.*;

import com.stripe.Stripe;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.co.tradersflow.support.FakeStripe;
import uk.co.tradersflow.support.TestUsers.TestUser;

/**
 * A backlog of stored events (after a burst of deliveries, or an outage of the handlers) drains
 * at the database's pace, not the poller's: the webhook verticles claim batches and claim again
 * while there is work, instead of a few events per poll.
 */
class StripeWebhookBacklogTest extends FakeStripeServerTest {
    private static final Logger log = LoggerFactory.getLogger(StripeWebhookBacklogTest.class);
    private static final int INVOICES = 100;
    /** Notices of the same payment per invoice, as Stripe's retries and duplicates would bring. */
    private static final int NOTICES = 20;
    /** Generous for a loaded 2-core host; the old worker (3 per poll) needed about 6 minutes for this. */
    private static final Duration LIMIT = Duration.ofSeconds(60);

    @Test
    void aBacklogOfTwoThousandStoredEventsIsAppliedWellUnderAMinuteEachExactlyOnce() {
        TestUser u = users.create();
        String acct = connectReady(server, fake, u.accountId());
        JsonArray backlog = new JsonArray();
        List<JsonObject> events = new ArrayList<>();
        for (int i = 0; i < INVOICES; i++) {
            UUID invoice = invoice(server, u.accountId(), "customer@example.test", 1_000 + i);
            String payment =
                    "pi_" + UUID.randomUUID().toString().replace("-", "").substring(0, 14);
            for (int n = 0; n < NOTICES; n++) {
                events.add(FakeStripe.event(
                        "payment_intent.succeeded",
                        new JsonObject()
                                .put("id", payment)
                                .put("object", "payment_intent")
                                .put("amount_received", 1_000 + i)
                                .put("currency", "gbp")
                                .put("metadata", new JsonObject().put("tf_invoice_id", invoice.toString())),
                        acct,
                        Stripe.API_VERSION));
            }
        }
        // Out of order, and stored in one statement, so the whole backlog is there before handling starts.
        Collections.shuffle(events, new Random(21));
        events.forEach(backlog::add);
        int total = INVOICES * NOTICES;

        long started = System.nanoTime();
        sql(
                server,
                "INSERT INTO stripe_events (id, type, connect_account, created, payload) "
                        + "SELECT e->>'id', e->>'type', e->>'account', now(), e FROM jsonb_array_elements(?::jsonb) e",
                backlog.encode());
        long deadline = started + LIMIT.toNanos();
        long handled;
        while ((handled = count(
                        server,
                        "SELECT count(*) FROM stripe_events WHERE connect_account = ? AND status IN ('processed', 'ignored', 'failed')",
                        acct))
                < total) {
            assertThat(System.nanoTime())
                    .as("%d of %d events handled within %s", handled, total, LIMIT)
                    .isLessThan(deadline);
            sleep(100);
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        log.info("{} stored events applied in {} s ({} events/s)", total, String.format("%.2f", seconds), (long)
                (total / seconds));

        assertThat(count(
                        server,
                        "SELECT count(*) FROM stripe_events WHERE connect_account = ? AND status = 'processed' AND attempts = 1",
                        acct))
                .as("every event processed on its first and only claim")
                .isEqualTo(total);
        assertThat(count(
                        server,
                        "SELECT count(*) FROM invoices WHERE account_id = ? AND status = 'paid'",
                        u.accountId()))
                .isEqualTo(INVOICES);
        assertThat(count(
                        server,
                        "SELECT count(*) FROM audit_log WHERE account_id = ? AND action = 'invoice.paid' AND actor_type = 'stripe'",
                        u.accountId()))
                .as("one invoice.paid entry per invoice")
                .isEqualTo(INVOICES);
        assertThat(count(
                        server,
                        "SELECT count(*) FROM audit_log WHERE account_id = ? AND action = 'invoice.payment_unexpected'",
                        u.accountId()))
                .isZero();
        assertThat(count(
                        server,
                        "SELECT count(*) FROM email_outbox WHERE template = 'payment_received' AND account_id = ?",
                        u.accountId()))
                .as("one payment_received email per invoice")
                .isEqualTo(INVOICES);
    }

    /**
     * Handlers that wait on Stripe have a lane of their own: with every one of them held by a slow
     * Stripe (more subscription events than both instances' lanes take), a payment, which needs
     * no Stripe call, is still applied at once instead of waiting for a free handler.
     */
    @Test
    void aPaymentIsAppliedWhileEveryStripeCallingHandlerWaitsOnASlowStripe() {
        TestUser payee = users.create();
        String acct = connectReady(server, fake, payee.accountId());
        UUID invoice = invoice(server, payee.accountId(), "customer@example.test", 4_200);
        fake.slow("/v1/subscriptions/", Duration.ofSeconds(10));
        try {
            List<String> subscriptionEvents = everyStripeCallWaitingOnASlowStripe();
            JsonObject payment = FakeStripe.event(
                    "payment_intent.succeeded",
                    new JsonObject()
                            .put(
                                    "id",
                                    "pi_lane"
                                            + UUID.randomUUID()
                                                    .toString()
                                                    .replace("-", "")
                                                    .substring(0, 10))
                            .put("object", "payment_intent")
                            .put("amount_received", 4_200)
                            .put("currency", "gbp")
                            .put("metadata", new JsonObject().put("tf_invoice_id", invoice.toString())),
                    acct,
                    Stripe.API_VERSION);
            assertThat(deliver(server, payment).statusCode()).isEqualTo(200);
            // BillingFixtures.eventually waits at most 10 s: the subscriptions' Stripe calls are held that long.
            eventually("the payment applied", () -> "processed".equals(eventStatus(server, payment.getString("id"))));
            assertThat(value(server, "SELECT status FROM invoices WHERE id = ?", invoice))
                    .isEqualTo("paid");
            assertThat(subscriptionEvents)
                    .as("the Stripe-calling events were still waiting on Stripe")
                    .anySatisfy(id -> assertThat(eventStatus(server, id)).isIn("pending", "processing"));
        } finally {
            fake.slow("/v1/subscriptions/", Duration.ZERO);
        }
    }

    /**
     * Subscription events of accounts with a Stripe customer, more than the instance's Stripe calls
     * (both verticles' share), delivered while Stripe is slow; returns their ids once as many as
     * the calls allow are claimed and waiting on Stripe.
     */
    private List<String> everyStripeCallWaitingOnASlowStripe() {
        List<String> subscriptionEvents = new ArrayList<>();
        for (int i = 0; i < 2 * StripeWebhookVerticle.MAX_STRIPE_HANDLING + 2; i++) {
            TestUser u = users.create();
            String customer =
                    "cus_lane" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
            sql(
                    server,
                    "INSERT INTO billing_accounts (account_id, stripe_customer_id) VALUES (?, ?)",
                    u.accountId(),
                    customer);
            JsonObject e = FakeStripe.event(
                    "customer.subscription.updated",
                    new JsonObject()
                            .put("id", "sub_lane" + i)
                            .put("object", "subscription")
                            .put("customer", customer),
                    null,
                    Stripe.API_VERSION);
            assertThat(deliver(server, e).statusCode()).isEqualTo(200);
            subscriptionEvents.add(e.getString("id"));
        }
        // Claimed and held: the fake answers one request at a time, each after 10 s, so these wait
        // for Stripe (to connect or to answer) for as long as the gateway's timeouts allow. Counted
        // with an earlier test's, whose calls may still hold some of the instance's Stripe calls.
        eventually(
                "every Stripe call waiting on Stripe",
                () -> count(
                                server,
                                "SELECT count(*) FROM stripe_events WHERE status = 'processing' "
                                        + "AND payload #>> '{data,object,customer}' LIKE 'cus\\_lane%'")
                        >= 2 * StripeWebhookVerticle.MAX_STRIPE_HANDLING);
        return subscriptionEvents;
    }

    /**
     * Only the Stripe reads are bounded, not the Stripe lane's events: with every Stripe call this
     * instance allows waiting on a slow Stripe, subscription events of customers no account has
     * (which need no Stripe read) are still applied at once, each on its one claim.
     */
    @Test
    void eventsOfTheStripeLaneThatNeedNoStripeReadAreAppliedWhileEveryStripeCallWaits() {
        fake.slow("/v1/subscriptions/", Duration.ofSeconds(10));
        try {
            List<String> waiting = everyStripeCallWaitingOnASlowStripe();
            List<String> noAccount = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                JsonObject e = FakeStripe.event(
                        "customer.subscription.updated",
                        new JsonObject()
                                .put("id", "sub_nobody" + i)
                                .put("object", "subscription")
                                .put(
                                        "customer",
                                        "cus_nobody"
                                                + UUID.randomUUID()
                                                        .toString()
                                                        .replace("-", "")
                                                        .substring(0, 10)),
                        null,
                        Stripe.API_VERSION);
                assertThat(deliver(server, e).statusCode()).isEqualTo(200);
                noAccount.add(e.getString("id"));
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (!noAccount.stream().allMatch(id -> "ignored".equals(eventStatus(server, id)))) {
                assertThat(System.nanoTime())
                        .as("events naming no account applied while Stripe is slow")
                        .isLessThan(deadline);
                sleep(20);
            }
            assertThat(count(
                            server,
                            "SELECT count(*) FROM stripe_events WHERE id = ANY(?::text[]) AND attempts = 1",
                            (Object) noAccount.toArray(String[]::new)))
                    .isEqualTo(noAccount.size());
            assertThat(waiting)
                    .as("the Stripe-calling events were still waiting on Stripe")
                    .anySatisfy(id -> assertThat(eventStatus(server, id)).isIn("pending", "processing"));
        } finally {
            fake.slow("/v1/subscriptions/", Duration.ZERO);
        }
    }
}
