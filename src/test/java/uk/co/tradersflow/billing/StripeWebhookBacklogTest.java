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
                        "SELECT count(*) FROM stripe_events WHERE status IN ('processed', 'ignored', 'failed')"))
                < total) {
            assertThat(System.nanoTime())
                    .as("%d of %d events handled within %s", handled, total, LIMIT)
                    .isLessThan(deadline);
            sleep(100);
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        log.info("{} stored events applied in {} s ({} events/s)", total, String.format("%.2f", seconds), (long)
                (total / seconds));

        assertThat(count(server, "SELECT count(*) FROM stripe_events WHERE status = 'processed' AND attempts = 1"))
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

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
