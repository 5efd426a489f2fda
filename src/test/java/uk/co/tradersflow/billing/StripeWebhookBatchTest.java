package uk.co.tradersflow.billing;

import static org.assertj.core.api.Assertions.assertThat;
import static uk.co.tradersflow.billing.BillingFixtures.*;

import com.stripe.Stripe;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.data.invoices.InvoiceService;
import uk.co.tradersflow.email.EmailOutbox;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.support.FakeStripe;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers.TestUser;

/**
 * Claimed events are applied a batch per transaction ({@link StripeEventHandler#applyBatch}), each
 * still exactly once and on its own: an event that fails undoes only itself, an event whose claim
 * was taken over is left to the newer claim, and the events that read Stripe are left to be
 * applied alone.
 */
class StripeWebhookBatchTest extends FakeStripeServerTest {

    private static String id() {
        return UUID.randomUUID().toString().replace("-", "").substring(0, 14);
    }

    /** A handler of this test's own, as the server builds its handlers, for batches the test claims itself. */
    private static StripeEventHandler handler() {
        Db db = server.main.db();
        AuditLog audit = new AuditLog(server.vertx.eventBus());
        return new StripeEventHandler(
                db,
                new StripeGateway(server.vertx, server.config.billing()),
                store(),
                audit,
                new EmailOutbox(server.vertx.eventBus()),
                new InvoiceService(db, audit),
                "https://app.tradersflow.test/billing",
                2 * StripeWebhookVerticle.MAX_STRIPE_HANDLING);
    }

    private static StripeEventStore store() {
        return new StripeEventStore(server.main.db(), server.vertx.eventBus());
    }

    /**
     * Stores {@code events} as claimed (attempt 1) by this test, leased for an hour so the
     * server's own handlers leave them alone, and returns the claims in the order given.
     */
    private static List<StripeEventStore.Claimed> claimedByTheTest(List<JsonObject> events) {
        JsonArray all = new JsonArray();
        events.forEach(all::add);
        sql(
                server,
                "INSERT INTO stripe_events (id, type, connect_account, created, status, attempts, lease_until, payload) "
                        + "SELECT e->>'id', e->>'type', e->>'account', now(), 'processing', 1, now() + interval '1 hour', e "
                        + "FROM jsonb_array_elements(?::jsonb) e",
                all.encode());
        return events.stream()
                .map(e -> new StripeEventStore.Claimed(e.getString("id"), e, 1))
                .toList();
    }

    private static JsonObject payment(UUID invoice, String acct, long pence, String intent) {
        return FakeStripe.event(
                "payment_intent.succeeded",
                new JsonObject()
                        .put("id", intent)
                        .put("object", "payment_intent")
                        .put("amount_received", pence)
                        .put("currency", "gbp")
                        .put("metadata", new JsonObject().put("tf_invoice_id", invoice.toString())),
                acct,
                Stripe.API_VERSION);
    }

    private static JsonObject subscriptionOf(String customer) {
        return FakeStripe.event(
                "customer.subscription.updated",
                new JsonObject()
                        .put("id", "sub_" + id())
                        .put("object", "subscription")
                        .put("customer", customer)
                        .put("status", "active"),
                null,
                Stripe.API_VERSION);
    }

    private static JsonObject unhandled() {
        return FakeStripe.event("some.unhandled_type", new JsonObject(), null, Stripe.API_VERSION);
    }

    private static long invoicePaidEntries(UUID invoice) {
        return count(
                server,
                "SELECT count(*) FROM audit_log WHERE action = 'invoice.paid' AND target_id = ?",
                invoice.toString());
    }

    @Test
    void aPaymentThatFailsInItsBatchUndoesOnlyItselfAndItsNeighboursAreAppliedOnce() {
        TestUser payee = users.create();
        String acct = connectReady(server, fake, payee.accountId());
        UUID first = invoice(server, payee.accountId(), "first@example.test", 1_100);
        UUID refused = invoice(server, payee.accountId(), "refused@example.test", 1_200);
        UUID last = invoice(server, payee.accountId(), "last@example.test", 1_300);
        String trigger = "refuse_" + id();
        // PostgreSQL refuses the one invoice's payment mid-batch, as a constraint or a bug would.
        sql(
                server,
                "CREATE FUNCTION " + trigger + "() RETURNS trigger LANGUAGE plpgsql AS "
                        + "$$ BEGIN RAISE EXCEPTION 'the test refuses this payment'; END $$");
        sql(
                server,
                "CREATE TRIGGER " + trigger + " BEFORE UPDATE ON invoices FOR EACH ROW WHEN (OLD.id = '" + refused
                        + "') EXECUTE FUNCTION " + trigger + "()");
        try {
            JsonObject paysFirst = payment(first, acct, 1_100, "pi_" + id());
            JsonObject paysRefused = payment(refused, acct, 1_200, "pi_" + id());
            JsonObject paysLast = payment(last, acct, 1_300, "pi_" + id());
            JsonObject nobody = subscriptionOf("cus_nobody" + id());
            JsonObject other = unhandled();
            List<StripeEventStore.Claimed> batch =
                    claimedByTheTest(List.of(paysFirst, nobody, paysRefused, other, paysLast));

            StripeEventHandler.BatchOutcome outcome = TestServer.await(handler().applyBatch(batch));

            assertThat(outcome.alone()).isEmpty();
            assertThat(outcome.failed()).singleElement().satisfies(f -> {
                assertThat(f.claimed().id()).isEqualTo(paysRefused.getString("id"));
                assertThat(f.cause()).hasMessageContaining("the test refuses this payment");
            });
            assertThat(eventStatus(server, paysFirst.getString("id"))).isEqualTo("processed");
            assertThat(eventStatus(server, paysLast.getString("id"))).isEqualTo("processed");
            assertThat(eventStatus(server, nobody.getString("id"))).isEqualTo("ignored");
            assertThat(eventStatus(server, other.getString("id"))).isEqualTo("ignored");
            assertThat(eventStatus(server, paysRefused.getString("id")))
                    .as("left to its handler to settle, as claimed")
                    .isEqualTo("processing");
            assertThat(value(server, "SELECT status FROM invoices WHERE id = ?", first))
                    .isEqualTo("paid");
            assertThat(value(server, "SELECT status FROM invoices WHERE id = ?", last))
                    .isEqualTo("paid");
            assertThat(value(server, "SELECT status FROM invoices WHERE id = ?", refused))
                    .isEqualTo("draft");
            assertThat(invoicePaidEntries(first)).isEqualTo(1);
            assertThat(invoicePaidEntries(last)).isEqualTo(1);
            assertThat(invoicePaidEntries(refused))
                    .as("the refused payment's audit entry rolled back with it")
                    .isZero();
            assertThat(count(
                            server,
                            "SELECT count(*) FROM email_outbox WHERE template = 'payment_received' AND account_id = ?",
                            payee.accountId()))
                    .as("one email for each applied payment, none for the refused one")
                    .isEqualTo(2);
            assertThat(count(
                            server,
                            "SELECT count(DISTINCT processed_at) FROM stripe_events WHERE id = ANY(?::text[])",
                            (Object) new String[] {
                                paysFirst.getString("id"),
                                paysLast.getString("id"),
                                nobody.getString("id"),
                                other.getString("id")
                            }))
                    .as("applied by one transaction (processed_at is its start time, now())")
                    .isEqualTo(1);
        } finally {
            sql(server, "DROP TRIGGER " + trigger + " ON invoices");
            sql(server, "DROP FUNCTION " + trigger + "()");
        }
    }

    /**
     * Between a batch's claim and its transaction, another claim takes two of its events over (as
     * after a lease ran out): the batch leaves both as the newer claim has them, commits nothing of
     * theirs, and applies the rest.
     */
    @Test
    void eventsWhoseClaimWasTakenOverMidBatchAreLeftToTheNewerClaimAndTheRestAreApplied() {
        TestUser payee = users.create();
        String acct = connectReady(server, fake, payee.accountId());
        UUID invoice = invoice(server, payee.accountId(), "taken@example.test", 2_100);
        JsonObject kept = subscriptionOf("cus_nobody" + id());
        JsonObject takenIgnore = subscriptionOf("cus_nobody" + id());
        JsonObject takenPayment = payment(invoice, acct, 2_100, "pi_" + id());
        List<StripeEventStore.Claimed> batch = claimedByTheTest(List.of(kept, takenIgnore, takenPayment));
        sql(
                server,
                "UPDATE stripe_events SET attempts = attempts + 1, lease_until = now() + interval '1 hour' "
                        + "WHERE id = ANY(?::text[])",
                (Object) new String[] {takenIgnore.getString("id"), takenPayment.getString("id")});

        StripeEventHandler.BatchOutcome outcome = TestServer.await(handler().applyBatch(batch));

        assertThat(outcome.alone()).isEmpty();
        assertThat(outcome.failed())
                .extracting(f -> f.claimed().id())
                .containsExactlyInAnyOrder(takenIgnore.getString("id"), takenPayment.getString("id"));
        assertThat(outcome.failed()).allSatisfy(f -> assertThat(f.cause()).isInstanceOf(LeaseLost.class));
        assertThat(eventStatus(server, kept.getString("id"))).isEqualTo("ignored");
        for (JsonObject taken : List.of(takenIgnore, takenPayment)) {
            assertThat(eventStatus(server, taken.getString("id"))).isEqualTo("processing");
            assertThat(value(server, "SELECT attempts FROM stripe_events WHERE id = ?", taken.getString("id")))
                    .isEqualTo(2);
            assertThat(value(server, "SELECT processed_at FROM stripe_events WHERE id = ?", taken.getString("id")))
                    .isNull();
        }
        assertThat(value(server, "SELECT status FROM invoices WHERE id = ?", invoice))
                .as("the stale claim's payment rolled back")
                .isEqualTo("draft");
        assertThat(invoicePaidEntries(invoice)).isZero();
    }

    /** Events that reconcile an existing billing row read Stripe: the batch leaves them to be applied alone. */
    @Test
    void eventsOfCustomersSomeAccountHasAreLeftToBeAppliedAloneAndTheRestAreMarked() {
        String customer = "cus_" + id();
        withCustomer(server, users.create().accountId(), customer);
        JsonObject known = subscriptionOf(customer);
        JsonObject unknown = subscriptionOf("cus_nobody" + id());
        List<StripeEventStore.Claimed> batch = claimedByTheTest(List.of(known, unknown));

        StripeEventHandler.BatchOutcome outcome = TestServer.await(handler().applyBatch(batch));

        assertThat(outcome.failed()).isEmpty();
        assertThat(outcome.alone()).extracting(StripeEventStore.Claimed::id).containsExactly(known.getString("id"));
        assertThat(eventStatus(server, known.getString("id"))).isEqualTo("processing");
        assertThat(eventStatus(server, unknown.getString("id"))).isEqualTo("ignored");
        assertThat(value(server, "SELECT last_error FROM stripe_events WHERE id = ?", unknown.getString("id")))
                .isEqualTo("no account has this Stripe customer");
    }

    /**
     * A backlog of 1,800 events (payments with ten notices each, subscription updates of unknown
     * customers, unhandled types), shuffled, drained by the server's handlers and a second
     * instance's beside them: every event handled on its one claim, each payment applied once, and
     * in batches (events that share a transaction share its processed_at).
     */
    @Test
    void aBacklogDrainedByTwoInstancesHandlersSideBySideIsAppliedExactlyOnceInBatches() {
        TestUser payee = users.create();
        String acct = connectReady(server, fake, payee.accountId());
        List<JsonObject> events = new ArrayList<>();
        int invoices = 40;
        for (int i = 0; i < invoices; i++) {
            UUID invoice = invoice(server, payee.accountId(), "backlog@example.test", 3_000 + i);
            String intent = "pi_" + id();
            for (int n = 0; n < 10; n++) {
                events.add(payment(invoice, acct, 3_000 + i, intent));
            }
        }
        for (int i = 0; i < 1_200; i++) {
            events.add(subscriptionOf("cus_nobody" + id()));
        }
        for (int i = 0; i < 200; i++) {
            events.add(unhandled());
        }
        Collections.shuffle(events, new Random(21));
        String[] ids = events.stream().map(e -> e.getString("id")).toArray(String[]::new);
        int total = events.size();

        StripeEventHandler secondHandler = handler();
        StripeEventStore secondStore = store();
        String second = TestServer.await(server.vertx.deployVerticle(
                () -> new StripeWebhookVerticle(secondStore, secondHandler, new SimpleMeterRegistry()),
                new DeploymentOptions().setInstances(2)));
        try {
            JsonArray backlog = new JsonArray();
            events.forEach(backlog::add);
            sql(
                    server,
                    "INSERT INTO stripe_events (id, type, connect_account, created, payload) "
                            + "SELECT e->>'id', e->>'type', e->>'account', now(), e FROM jsonb_array_elements(?::jsonb) e",
                    backlog.encode());
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (count(
                            server,
                            "SELECT count(*) FROM stripe_events WHERE id = ANY(?::text[]) "
                                    + "AND status IN ('processed', 'ignored', 'failed')",
                            (Object) ids)
                    < total) {
                assertThat(System.nanoTime())
                        .as("the backlog handled within 60 s")
                        .isLessThan(deadline);
                sleep(100);
            }
        } finally {
            TestServer.await(server.vertx.undeploy(second));
        }

        assertThat(count(
                        server,
                        "SELECT count(*) FROM stripe_events WHERE id = ANY(?::text[]) "
                                + "AND status IN ('processed', 'ignored') AND attempts = 1",
                        (Object) ids))
                .as("every event handled on its first and only claim")
                .isEqualTo(total);
        assertThat(count(
                        server,
                        "SELECT count(*) FROM invoices WHERE account_id = ? AND status = 'paid'",
                        payee.accountId()))
                .isEqualTo(invoices);
        assertThat(count(
                        server,
                        "SELECT count(*) FROM audit_log WHERE account_id = ? AND action = 'invoice.paid'",
                        payee.accountId()))
                .as("one invoice.paid entry per invoice")
                .isEqualTo(invoices);
        assertThat(count(
                        server,
                        "SELECT count(*) FROM email_outbox WHERE template = 'payment_received' AND account_id = ?",
                        payee.accountId()))
                .as("one payment_received email per invoice")
                .isEqualTo(invoices);
        assertThat(count(
                        server,
                        "SELECT count(DISTINCT processed_at) FROM stripe_events WHERE id = ANY(?::text[])",
                        (Object) ids))
                .as("applied in batches: far fewer transactions than events")
                .isLessThan(total / 10);
    }
}
