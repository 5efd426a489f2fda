package uk.co.tradersflow.billing;

import static org.assertj.core.api.Assertions.assertThat;
import static uk.co.tradersflow.billing.BillingFixtures.*;
import static uk.co.tradersflow.billing.BillingFixtures.withCustomer;

import com.stripe.Stripe;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import uk.co.tradersflow.support.FakeStripe;
import uk.co.tradersflow.support.LogCapture;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers.TestUser;

class StripeWebhookTest extends FakeStripeServerTest {

    private static JsonObject event(String type, JsonObject object) {
        return FakeStripe.event(type, object, null, Stripe.API_VERSION);
    }

    private static String id() {
        return UUID.randomUUID().toString().replace("-", "").substring(0, 14);
    }

    private static long storedEvents() {
        return count(server, "SELECT count(*) FROM stripe_events");
    }

    private static double metric(String line) {
        String text = TestServer.await(
                        server.request(HttpMethod.GET, "/metrics").send())
                .bodyAsString();
        return text.lines()
                .filter(l -> l.startsWith(line))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                .findFirst()
                .orElse(0);
    }

    private static void assertRejected(HttpResponse<Buffer> r) {
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(400);
        assertThat(r.getHeader("Content-Type")).startsWith("application/problem+json");
        assertThat(r.bodyAsJsonObject().getString("code")).isEqualTo("invalid_signature");
    }

    @Test
    void unsignedTamperedWrongSecretStaleAndFutureDeliveriesAre400AndStoreNothing() {
        JsonObject e = event(
                "customer.subscription.updated",
                new JsonObject().put("id", "sub_x").put("customer", "cus_x"));
        String body = e.encode();
        long now = Instant.now().getEpochSecond();
        long before = storedEvents();
        double staleBefore = metric("tf_stripe_webhook_rejected_total{reason=\"stale\"");

        assertRejected(deliver(server, body, null));
        assertRejected(deliver(server, body, "garbage"));
        assertRejected(deliver(server, body.replace("sub_x", "sub_y"), FakeStripe.sign(SECRET_NEW, now, body)));
        assertRejected(deliver(server, body, FakeStripe.sign("whsec_somebody_elses_secret", now, body)));
        assertRejected(deliver(server, body, FakeStripe.sign(SECRET_NEW, now - 305, body)));
        assertRejected(deliver(server, body, FakeStripe.sign(SECRET_NEW, now + 305, body)));
        // A valid signature under one timestamp does not carry over to another.
        String sig = FakeStripe.sign(SECRET_NEW, now - 1000, body);
        assertRejected(deliver(server, body, sig.replace("t=" + (now - 1000), "t=" + now)));

        assertThat(storedEvents()).isEqualTo(before);
        assertThat(metric("tf_stripe_webhook_rejected_total{reason=\"stale\"")).isEqualTo(staleBefore + 1);
        assertThat(metric("tf_stripe_webhook_rejected_total{reason=\"future\"")).isGreaterThanOrEqualTo(1);
        assertThat(metric("tf_stripe_webhook_rejected_total{reason=\"missing\""))
                .isGreaterThanOrEqualTo(1);
        assertThat(metric("tf_stripe_webhook_rejected_total{reason=\"mismatch\""))
                .isGreaterThanOrEqualTo(3);
    }

    @Test
    void aSignedBodyThatIsNotAStripeEventIsRefusedAndNotStored() {
        long before = storedEvents();
        long now = Instant.now().getEpochSecond();
        for (String body : List.of(
                "not json",
                "{\"id\":\"evt_typeless\",\"type\":5,\"created\":1,\"data\":{}}",
                "{\"id\":\"not-an-event-id\",\"type\":\"x\",\"created\":1,\"data\":{}}",
                "[1,2]")) {
            assertRejected(deliver(server, body, FakeStripe.sign(SECRET_NEW, now, body)));
        }
        assertThat(storedEvents()).isEqualTo(before);
    }

    @Test
    void ownersPageThroughTheEventLog() {
        for (int i = 0; i < 3; i++) {
            JsonObject e = event("some.unhandled_type", new JsonObject());
            deliver(server, e);
            awaitHandled(server, e.getString("id"));
        }
        TestUser owner = ownerUser();
        JsonObject first = server.send(HttpMethod.GET, "/admin/api/webhooks?status=ignored&limit=2", owner.token())
                .bodyAsJsonObject();
        assertThat(first.getJsonArray("items")).hasSize(2);
        String cursor = first.getString("nextCursor");
        assertThat(cursor).isNotNull();
        HttpResponse<Buffer> second = server.send(
                HttpMethod.GET, "/admin/api/webhooks?status=ignored&limit=2&cursor=" + cursor, owner.token());
        assertThat(second.statusCode()).as(second.bodyAsString()).isEqualTo(200);
        JsonObject next = second.bodyAsJsonObject().getJsonArray("items").getJsonObject(0);
        assertThat(first.getJsonArray("items").stream().map(o -> ((JsonObject) o).getString("id")))
                .doesNotContain(next.getString("id"));
        assertThat(Instant.parse(next.getString("receivedAt")))
                .isBeforeOrEqualTo(Instant.parse(
                        first.getJsonArray("items").getJsonObject(1).getString("receivedAt")));
        assertThat(server.send(HttpMethod.GET, "/admin/api/webhooks?status=bogus", owner.token())
                        .statusCode())
                .isEqualTo(400);
    }

    @Test
    void everyConfiguredSecretVerifiesDuringRotationAndWithinTolerance() {
        long now = Instant.now().getEpochSecond();
        for (String secret : List.of(SECRET_OLD, SECRET_NEW, SECRET_CONNECT)) {
            String body = event("some.unhandled_type", new JsonObject().put("id", "x"))
                    .encode();
            HttpResponse<Buffer> r = deliver(server, body, FakeStripe.sign(secret, now - 299, body));
            assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
        }
        // Stripe sends one v1 per active secret while it rolls its own; any match is enough.
        String body =
                event("some.unhandled_type", new JsonObject().put("id", "x")).encode();
        String unknown = FakeStripe.sign("whsec_not_ours_at_all_123", now, body);
        String ours = FakeStripe.sign(SECRET_OLD, now, body);
        String both = unknown + "," + ours.substring(ours.indexOf("v1="));
        assertThat(deliver(server, body, both).statusCode()).isEqualTo(200);
    }

    @Test
    void redeliveryAnswers200AndIsStoredOnce() {
        String body =
                event("some.unhandled_type", new JsonObject().put("id", "x")).encode();
        String id = new JsonObject(body).getString("id");
        long now = Instant.now().getEpochSecond();
        HttpResponse<Buffer> first = deliver(server, body, FakeStripe.sign(SECRET_NEW, now, body));
        HttpResponse<Buffer> again = deliver(server, body, FakeStripe.sign(SECRET_OLD, now + 5, body));
        assertThat(first.statusCode()).isEqualTo(200);
        assertThat(first.bodyAsJsonObject().getBoolean("duplicate")).isFalse();
        assertThat(again.statusCode()).isEqualTo(200);
        assertThat(again.bodyAsJsonObject().getBoolean("duplicate")).isTrue();
        assertThat(count(server, "SELECT count(*) FROM stripe_events WHERE id = ?", id))
                .isEqualTo(1);
        awaitHandled(server, id);
        assertThat(eventStatus(server, id)).isEqualTo("ignored");
        assertThat(value(server, "SELECT attempts FROM stripe_events WHERE id = ?", id))
                .isEqualTo(1);
    }

    /**
     * The delivery is verified and stored on the HTTPS loop that received it: no request-reply on
     * the bus sits on its path. The bus only says "there is work", once, for a newly stored event.
     */
    @Test
    void aDeliveryIsAnsweredWithoutABusHopAndOnlyANewEventSignalsWork() {
        String body =
                event("some.unhandled_type", new JsonObject().put("id", "x")).encode();
        String id = new JsonObject(body).getString("id");
        long now = Instant.now().getEpochSecond();
        List<String> sent = new java.util.concurrent.CopyOnWriteArrayList<>();
        io.vertx.core.Handler<io.vertx.core.eventbus.DeliveryContext<Object>> spy = c -> {
            if (c.message().address().startsWith("stripe.")) {
                sent.add(c.message().address()
                        + (c.message().replyAddress() != null ? " (request)" : "")
                        + (c.body() instanceof StripeEventDue due ? " " + due.id() : ""));
            }
            c.next();
        };
        server.vertx.eventBus().addOutboundInterceptor(spy);
        try {
            assertThat(deliver(server, body, FakeStripe.sign(SECRET_NEW, now, body))
                            .statusCode())
                    .isEqualTo(200);
            assertThat(deliver(server, body, FakeStripe.sign(SECRET_NEW, now, body))
                            .bodyAsJsonObject()
                            .getBoolean("duplicate"))
                    .isTrue();
            assertRejected(deliver(server, body, FakeStripe.sign("whsec_not_ours_at_all_123", now, body)));
            awaitHandled(server, id);
        } finally {
            server.vertx.eventBus().removeOutboundInterceptor(spy);
        }
        assertThat(sent).containsExactly("stripe.event.due " + id);
    }

    private static TestUser subscriber(String customer) {
        TestUser u = users.create();
        withCustomer(server, u.accountId(), customer);
        return u;
    }

    private static String subscriptionStatus(TestUser u) {
        return (String)
                value(server, "SELECT subscription_status FROM billing_accounts WHERE account_id = ?", u.accountId());
    }

    @Test
    void subscriptionStateIsStripesNewestWhateverOrderEventsArriveIn() {
        String customer = "cus_" + id();
        String sub = "sub_" + id();
        TestUser u = subscriber(customer);
        long trialEnd = Instant.now().getEpochSecond() + 14 * 86400;
        long periodEnd = Instant.now().getEpochSecond() + 30 * 86400;
        JsonObject trialing = fake.subscription(sub, customer, "trialing", trialEnd, periodEnd)
                .copy();
        JsonObject pastDue = trialing.copy().put("status", "past_due");
        // Stripe now holds "active"; the events that arrive describe older states, newest first.
        fake.subscription(sub, customer, "active", trialEnd, periodEnd);
        List<JsonObject> scrambled = List.of(
                event(
                        "invoice.payment_failed",
                        new JsonObject()
                                .put("id", "in_" + id())
                                .put("object", "invoice")
                                .put("customer", customer)
                                .put("amount_due", 2500)
                                .put("currency", "gbp")
                                .put("attempt_count", 1)
                                .put(
                                        "parent",
                                        new JsonObject()
                                                .put("type", "subscription_details")
                                                .put(
                                                        "subscription_details",
                                                        new JsonObject().put("subscription", sub)))),
                event("customer.subscription.updated", pastDue),
                event(
                        "checkout.session.completed",
                        new JsonObject()
                                .put("id", "cs_" + id())
                                .put("object", "checkout.session")
                                .put("mode", "subscription")
                                .put("customer", customer)
                                .put("subscription", sub)),
                event("customer.subscription.created", trialing));
        for (JsonObject e : scrambled) {
            assertThat(deliver(server, e).statusCode()).isEqualTo(200);
        }
        scrambled.forEach(e -> awaitHandled(server, e.getString("id")));
        assertThat(subscriptionStatus(u)).isEqualTo("active");
        JsonObject seen = server.send(HttpMethod.GET, "/api/v1/billing/subscription", u.token())
                .bodyAsJsonObject();
        assertThat(seen.getString("status")).isEqualTo("active");
        assertThat(seen.getString("currentPeriodEnd"))
                .isEqualTo(Instant.ofEpochSecond(periodEnd).toString());
        assertThat(seen.getString("trialEnd"))
                .isEqualTo(Instant.ofEpochSecond(trialEnd).toString());

        // Cancelled in Stripe; a stale "created" (trialing) arriving last cannot revive it.
        fake.subscription(sub, customer, "canceled", trialEnd, periodEnd);
        JsonObject deleted = event("customer.subscription.deleted", fake.subscriptions.get(sub));
        JsonObject staleCreated = event("customer.subscription.created", trialing);
        deliver(server, deleted);
        awaitHandled(server, deleted.getString("id"));
        deliver(server, staleCreated);
        awaitHandled(server, staleCreated.getString("id"));
        assertThat(subscriptionStatus(u)).isEqualTo("cancelled");

        // Each status change is audited with Stripe as the actor.
        assertThat(count(
                        server,
                        "SELECT count(*) FROM audit_log WHERE account_id = ? AND actor_type = 'stripe' "
                                + "AND action = 'billing.subscription_status_changed'",
                        u.accountId()))
                .isEqualTo(2);
        assertThat(value(
                        server,
                        "SELECT details->>'to' FROM audit_log WHERE account_id = ? AND actor_type = 'stripe' "
                                + "ORDER BY id DESC LIMIT 1",
                        u.accountId()))
                .isEqualTo("cancelled");
        // The failed payment was mailed to the account's user, once.
        assertThat(count(
                        server,
                        // The outbox empties a message's model once it has left (sent, or suppressed), so
                        // the amount is read only from a row that still holds it.
                        "SELECT count(*) FROM email_outbox WHERE account_id = ? AND template = 'payment_failed' "
                                + "AND recipient = ? AND (model = '{}'::jsonb "
                                + "OR ((model->>'amountPence')::int = 2500 AND model->>'currency' = 'GBP'))",
                        u.accountId(),
                        u.email()))
                .isEqualTo(1);
    }

    /** A statement run as the superuser that gives up after 2 s waiting for a lock; its error, or "ok". */
    private static String tryingLocks(String statement, Object... args) {
        try (java.sql.Connection c = server.env.admin();
                java.sql.Statement set = c.createStatement();
                java.sql.PreparedStatement ps = c.prepareStatement(statement)) {
            set.execute("SET lock_timeout = '2s'");
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            ps.execute();
            return "ok";
        } catch (java.sql.SQLException e) {
            return e.getSQLState() + " " + e.getMessage();
        }
    }

    @Test
    void stripeIsReadWithoutHoldingTheBillingRowLocked() {
        String customer = "cus_" + id();
        String sub = "sub_" + id();
        TestUser u = subscriber(customer);
        TestUser connected = users.create();
        String acct = "acct_" + id();
        sql(
                server,
                "INSERT INTO billing_accounts (account_id, connect_account_id) VALUES (?, ?)",
                connected.accountId(),
                acct);
        fake.account(acct, true, true);
        fake.subscription(sub, customer, "active", 0, Instant.now().getEpochSecond() + 86400);
        List<String> whileRead = new java.util.concurrent.CopyOnWriteArrayList<>();
        fake.whileRetrieving = path -> {
            if (path.endsWith(sub)) {
                whileRead.add(tryingLocks(
                        "SELECT 1 FROM billing_accounts WHERE account_id = ? FOR UPDATE NOWAIT", u.accountId()));
            } else if (path.endsWith(acct)) {
                whileRead.add(tryingLocks(
                        "SELECT 1 FROM billing_accounts WHERE account_id = ? FOR UPDATE NOWAIT",
                        connected.accountId()));
            }
        };
        try {
            JsonObject subscriptionEvent = event("customer.subscription.updated", fake.subscriptions.get(sub));
            JsonObject accountEvent = FakeStripe.event(
                    "account.updated",
                    new JsonObject().put("id", acct).put("object", "account"),
                    acct,
                    Stripe.API_VERSION);
            deliver(server, subscriptionEvent);
            deliver(server, accountEvent);
            awaitHandled(server, subscriptionEvent.getString("id"));
            awaitHandled(server, accountEvent.getString("id"));
            assertThat(eventStatus(server, subscriptionEvent.getString("id"))).isEqualTo("processed");
            assertThat(eventStatus(server, accountEvent.getString("id"))).isEqualTo("processed");
        } finally {
            fake.whileRetrieving = path -> {};
        }
        assertThat(whileRead)
                .as("the rows could be locked by others while Stripe answered")
                .containsExactly("ok", "ok");
        assertThat(subscriptionStatus(u)).isEqualTo("active");
        assertThat(value(
                        server,
                        "SELECT charges_enabled AND payouts_enabled FROM billing_accounts WHERE account_id = ?",
                        connected.accountId()))
                .isEqualTo(true);
    }

    @Test
    void aRowWrittenWhileStripeIsReadMakesTheHandlerReadAgainAndWriteTheNewerState() {
        String customer = "cus_" + id();
        String sub = "sub_" + id();
        TestUser u = subscriber(customer);
        long periodEnd = Instant.now().getEpochSecond() + 86400;
        JsonObject trialing = fake.subscription(sub, customer, "trialing", periodEnd, periodEnd)
                .copy();
        List<String> whileRead = new java.util.concurrent.CopyOnWriteArrayList<>();
        fake.whileRetrieving = path -> {
            if (path.endsWith(sub) && whileRead.isEmpty()) {
                // While "trialing" is on its way back, the customer pays: Stripe moves on, and a newer
                // read (another event's handler) has already written it.
                fake.subscription(sub, customer, "active", 0, periodEnd);
                whileRead.add(tryingLocks(
                        "UPDATE billing_accounts SET subscription_id = ?, subscription_status = 'active', "
                                + "stripe_status = 'active', trial_end = NULL, updated_at = now() WHERE account_id = ?",
                        sub,
                        u.accountId()));
            }
        };
        JsonObject e = event("customer.subscription.updated", trialing);
        try {
            deliver(server, e);
            awaitHandled(server, e.getString("id"));
        } finally {
            fake.whileRetrieving = path -> {};
        }
        assertThat(whileRead).containsExactly("ok");
        assertThat(eventStatus(server, e.getString("id"))).isEqualTo("processed");
        assertThat(subscriptionStatus(u))
                .as("the stale read is not written over the newer one")
                .isEqualTo("active");
        assertThat(fake.requests("GET", "/v1/subscriptions/" + sub)).hasSize(2);
    }

    /**
     * Losing every round to other writers of the billing row is contention, not a fault: the event
     * goes back to the queue as pending (an owner's failed list stays for real failures) and is
     * applied once the row is quiet. Its attempts still count, so one that never gets through ends
     * failed for good, for an owner to replay.
     */
    @Test
    void aRowThatKeepsChangingWhileStripeIsReadDefersTheEventUntilItCanBeApplied() {
        String customer = "cus_" + id();
        String sub = "sub_" + id();
        TestUser u = subscriber(customer);
        fake.subscription(sub, customer, "active", 0, Instant.now().getEpochSecond() + 86400);
        fake.whileRetrieving = path -> {
            if (path.endsWith(sub)) {
                tryingLocks("UPDATE billing_accounts SET updated_at = now() WHERE account_id = ?", u.accountId());
            }
        };
        JsonObject e = event("customer.subscription.updated", fake.subscriptions.get(sub));
        String id = e.getString("id");
        try {
            deliver(server, e);
            eventually(
                    "deferred",
                    () -> "pending".equals(eventStatus(server, id))
                            && String.valueOf(value(server, "SELECT last_error FROM stripe_events WHERE id = ?", id))
                                    .contains("changed during each of " + StripeEventHandler.MAX_ROUNDS));
            assertThat(fake.requests("GET", "/v1/subscriptions/" + sub).size())
                    .isGreaterThanOrEqualTo(StripeEventHandler.MAX_ROUNDS);
            assertThat(subscriptionStatus(u)).isEqualTo("none");

            sql(server, "UPDATE stripe_events SET attempts = ? WHERE id = ?", StripeEventStore.MAX_ATTEMPTS - 1, id);
            eventually("given up", () -> "failed".equals(eventStatus(server, id)));
            assertThat(value(server, "SELECT next_attempt_at = 'infinity' FROM stripe_events WHERE id = ?", id))
                    .isEqualTo(true);
        } finally {
            fake.whileRetrieving = path -> {};
        }
        sql(
                server,
                "UPDATE stripe_events SET status = 'pending', attempts = 0, next_attempt_at = now() WHERE id = ?",
                id);
        awaitHandled(server, id);
        assertThat(eventStatus(server, id)).isEqualTo("processed");
        assertThat(subscriptionStatus(u)).isEqualTo("active");
    }

    /**
     * A handler that outlived its lease, whose event another claim took over meanwhile, commits
     * nothing: its status write and its effects roll back together, and the newer claim decides.
     */
    @Test
    void aHandlerWhoseClaimWasTakenOverCommitsNothing() {
        String customer = "cus_" + id();
        String sub = "sub_" + id();
        TestUser u = subscriber(customer);
        fake.subscription(sub, customer, "active", 0, Instant.now().getEpochSecond() + 86400);
        JsonObject e = event("customer.subscription.updated", fake.subscriptions.get(sub));
        String id = e.getString("id");
        // While this claim reads Stripe, another claim takes the event (as after a lease ran out):
        // the claim's count moves on and the lease is renewed far ahead, so no claim of this
        // instance's takes it back during the test.
        fake.whileRetrieving = path -> {
            if (path.endsWith(sub)) {
                sql(
                        server,
                        "UPDATE stripe_events SET attempts = attempts + 1, lease_until = now() + interval '1 hour' "
                                + "WHERE id = ?",
                        id);
            }
        };
        try (LogCapture log = new LogCapture()) {
            deliver(server, e);
            eventually(
                    "the stale claim gave up", () -> log.text().contains("event " + id + " is held by a newer claim"));
        } finally {
            fake.whileRetrieving = path -> {};
        }
        assertThat(eventStatus(server, id)).isEqualTo("processing");
        assertThat(value(server, "SELECT last_error FROM stripe_events WHERE id = ?", id))
                .isNull();
        assertThat(subscriptionStatus(u))
                .as("the stale claim's write rolled back")
                .isEqualTo("none");
    }

    @Test
    void trialWillEndMailsTheTradespersonOnceAndUnpaidMapsToPastDue() {
        String customer = "cus_" + id();
        String sub = "sub_" + id();
        TestUser u = subscriber(customer);
        long trialEnd = Instant.now().getEpochSecond() + 3 * 86400;
        JsonObject s = fake.subscription(sub, customer, "trialing", trialEnd, trialEnd);
        JsonObject e = event("customer.subscription.trial_will_end", s);
        deliver(server, e);
        deliver(server, event("customer.subscription.trial_will_end", s));
        awaitHandled(server, e.getString("id"));
        eventually(
                "second trial_will_end handled",
                () -> count(
                                server,
                                "SELECT count(*) FROM stripe_events WHERE type = 'customer.subscription.trial_will_end' AND payload->'data'->'object'->>'id' = ? "
                                        + "AND status = 'processed'",
                                sub)
                        == 2);
        assertThat(count(
                        server,
                        "SELECT count(*) FROM email_outbox WHERE account_id = ? AND template = 'trial_ending' "
                                + "AND model->>'trialEnd' = ? AND model->>'billingUrl' LIKE '%/billing'",
                        u.accountId(),
                        Instant.ofEpochSecond(trialEnd).toString()))
                .isEqualTo(1);
        assertThat(subscriptionStatus(u)).isEqualTo("trialing");

        fake.subscription(sub, customer, "unpaid", trialEnd, trialEnd);
        JsonObject unpaid = event("customer.subscription.updated", fake.subscriptions.get(sub));
        deliver(server, unpaid);
        awaitHandled(server, unpaid.getString("id"));
        assertThat(subscriptionStatus(u)).isEqualTo("past_due");
    }

    @Test
    void anEventOfAnotherApiVersionIsAppliedByReReadingNotDropped() {
        String customer = "cus_" + id();
        String sub = "sub_" + id();
        TestUser u = subscriber(customer);
        fake.subscription(sub, customer, "active", 0, Instant.now().getEpochSecond() + 86400);
        // 2020-era invoice shape: subscription at the top level, no "parent".
        JsonObject old = FakeStripe.event(
                "invoice.paid",
                new JsonObject()
                        .put("id", "in_" + id())
                        .put("object", "invoice")
                        .put("customer", customer)
                        .put("subscription", sub),
                null,
                "2020-08-27");
        deliver(server, old);
        awaitHandled(server, old.getString("id"));
        assertThat(eventStatus(server, old.getString("id"))).isEqualTo("processed");
        assertThat(value(server, "SELECT api_version FROM stripe_events WHERE id = ?", old.getString("id")))
                .isEqualTo("2020-08-27");
        assertThat(subscriptionStatus(u)).isEqualTo("active");
        assertThat(metric("tf_stripe_webhook_api_version_mismatch_total{version=\"2020-08-27\""))
                .isGreaterThanOrEqualTo(1);
    }

    @Test
    void fiftyConcurrentDeliveriesOfOnePaymentMarkTheInvoicePaidOnce() {
        TestUser u = users.create();
        String acct = connectReady(server, fake, u.accountId());
        UUID invoice = invoice(server, u.accountId(), "customer@example.test", 12_345);
        JsonObject e = intentEvent(
                "pi_" + id(),
                invoice,
                acct,
                new JsonObject().put("amount", 12_345).put("currency", "gbp").put("status", "succeeded"));
        String body = e.encode();
        String sig = FakeStripe.sign(SECRET_CONNECT, Instant.now().getEpochSecond(), body);
        List<Future<HttpResponse<Buffer>>> sends = new ArrayList<>();
        // Two instances on one database: half the deliveries reach each.
        try (TestServer second = TestServer.start(settings(fake))) {
            for (int i = 0; i < 50; i++) {
                TestServer target = i % 2 == 0 ? server : second;
                sends.add(target.request(HttpMethod.POST, "/webhooks/stripe")
                        .putHeader("Stripe-Signature", sig)
                        .putHeader("Content-Type", "application/json")
                        .sendBuffer(Buffer.buffer(body)));
            }
            TestServer.await(Future.all(sends));
            awaitHandled(server, e.getString("id"));
        }
        assertThat(sends).allSatisfy(f -> assertThat(f.result().statusCode()).isEqualTo(200));
        assertThat(sends.stream()
                        .filter(f -> !f.result().bodyAsJsonObject().getBoolean("duplicate"))
                        .count())
                .isEqualTo(1);
        awaitHandled(server, e.getString("id"));
        assertThat(value(server, "SELECT attempts FROM stripe_events WHERE id = ?", e.getString("id")))
                .isEqualTo(1);
        assertThat(value(server, "SELECT status FROM invoices WHERE id = ?", invoice))
                .isEqualTo("paid");
        assertThat(count(
                        server,
                        "SELECT count(*) FROM email_outbox WHERE template = 'payment_received' AND recipient = ? "
                                + "AND model->>'invoiceNumber' = 'INV-0001' AND (model->>'amountPence')::int = 12345",
                        u.email()))
                .isEqualTo(1);
        assertThat(count(
                        server,
                        "SELECT count(*) FROM audit_log WHERE account_id = ? AND action = 'invoice.paid' AND actor_type = 'stripe'",
                        u.accountId()))
                .isEqualTo(1);
    }

    @Test
    void connectedPaymentsMarkTheInvoicePaidOnceInEitherOrderAndOnlyFromItsOwnAccount() {
        TestUser u = users.create();
        String acct = connectReady(server, fake, u.accountId());
        UUID invoice = invoice(server, u.accountId(), "customer@example.test", 5_000);
        TestUser other = users.create();
        String otherAcct = connectReady(server, fake, other.accountId());

        // Another tradesperson's connected account cannot pay this invoice off.
        JsonObject forged = intentPaying(invoice, otherAcct, 5_000);
        deliver(server, forged);
        awaitHandled(server, forged.getString("id"));
        assertThat(value(server, "SELECT status FROM invoices WHERE id = ?", invoice))
                .isEqualTo("draft");

        // Stripe's two notices of one payment: the session names its payment intent.
        String payment = "pi_" + id();
        JsonObject session = FakeStripe.event(
                "checkout.session.completed",
                new JsonObject()
                        .put("id", "cs_" + id())
                        .put("object", "checkout.session")
                        .put("mode", "payment")
                        .put("payment_status", "paid")
                        .put("payment_intent", payment)
                        .put("amount_total", 5_000)
                        .put("currency", "gbp")
                        .put("metadata", new JsonObject().put("tf_invoice_id", invoice.toString())),
                acct,
                Stripe.API_VERSION);
        JsonObject intent = intentEvent(
                payment,
                invoice,
                acct,
                new JsonObject().put("amount_received", 5_000).put("currency", "gbp"));
        deliver(server, session);
        deliver(server, intent);
        awaitHandled(server, session.getString("id"));
        awaitHandled(server, intent.getString("id"));
        assertThat(value(server, "SELECT status FROM invoices WHERE id = ?", invoice))
                .isEqualTo("paid");
        assertThat(value(server, "SELECT paid_at IS NOT NULL FROM invoices WHERE id = ?", invoice))
                .isEqualTo(true);
        assertThat(mailsOf(u, "payment_received")).isEqualTo(1);
        assertThat(audited(u, "invoice.paid")).isEqualTo(1);
        assertThat(audited(u, "invoice.payment_unexpected"))
                .as("two notices of one payment are not a second payment")
                .isZero();
    }

    private static long mailsOf(TestUser u, String template) {
        return count(
                server,
                "SELECT count(*) FROM email_outbox WHERE template = ? AND account_id = ?",
                template,
                u.accountId());
    }

    private static long audited(TestUser u, String action) {
        return count(
                server, "SELECT count(*) FROM audit_log WHERE account_id = ? AND action = ?", u.accountId(), action);
    }

    private static JsonObject intentPaying(UUID invoice, String acct, long pence) {
        return intentEvent(
                "pi_" + id(),
                invoice,
                acct,
                new JsonObject().put("amount_received", pence).put("currency", "gbp"));
    }

    /** {@code payment_intent.succeeded} on {@code acct} for {@code invoice}, with {@code money}'s amount fields. */
    private static JsonObject intentEvent(String paymentId, UUID invoice, String acct, JsonObject money) {
        return FakeStripe.event(
                "payment_intent.succeeded",
                money.copy()
                        .put("id", paymentId)
                        .put("object", "payment_intent")
                        .put("metadata", new JsonObject().put("tf_invoice_id", invoice.toString())),
                acct,
                Stripe.API_VERSION);
    }

    /**
     * Money that arrives for a void invoice, or for one another payment already settled (a retired
     * link paid before Stripe deactivated it), changes nothing on the invoice but is audited and
     * alerted on: the tradesperson owes a refund.
     */
    @Test
    void aSecondPaymentOrOneForAVoidInvoiceIsReportedForRefund() {
        TestUser u = users.create();
        String acct = connectReady(server, fake, u.accountId());
        UUID paidTwice = invoice(server, u.accountId(), "customer@example.test", 5_000);
        UUID voided = invoice(server, u.accountId(), "customer@example.test", 7_000);
        sql(server, "UPDATE invoices SET status = 'void' WHERE id = ?", voided);
        try (LogCapture logs = new LogCapture()) {
            for (JsonObject e : List.of(
                    intentPaying(paidTwice, acct, 5_000),
                    intentPaying(paidTwice, acct, 5_000),
                    intentPaying(voided, acct, 7_000))) {
                deliver(server, e);
                awaitHandled(server, e.getString("id"));
            }
            assertThat(logs.text()).contains("INVOICE_PAYMENT_NEEDS_REFUND");
        }
        assertThat(value(server, "SELECT status FROM invoices WHERE id = ?", paidTwice))
                .isEqualTo("paid");
        assertThat(value(server, "SELECT status FROM invoices WHERE id = ?", voided))
                .isEqualTo("void");
        assertThat(mailsOf(u, "payment_received")).isEqualTo(1);
        assertThat(count(
                        server,
                        "SELECT count(*) FROM audit_log WHERE account_id = ? AND action = 'invoice.payment_unexpected' "
                                + "AND details->>'reason' = 'paid_twice' AND target_id = ?",
                        u.accountId(),
                        paidTwice.toString()))
                .isEqualTo(1);
        assertThat(count(
                        server,
                        "SELECT count(*) FROM audit_log WHERE account_id = ? AND action = 'invoice.payment_unexpected' "
                                + "AND details->>'reason' = 'void' AND target_id = ?",
                        u.accountId(),
                        voided.toString()))
                .isEqualTo(1);
    }

    /** A link made for an older, cheaper version of the invoice must not settle the current one. */
    @Test
    void aPaymentShortOfTheInvoiceTotalOrInAnotherCurrencyDoesNotMarkItPaid() {
        TestUser u = users.create();
        String acct = connectReady(server, fake, u.accountId());
        UUID invoice = invoice(server, u.accountId(), "customer@example.test", 9_000);
        for (JsonObject paid : List.of(
                new JsonObject().put("amount_received", 8_999).put("currency", "gbp"),
                new JsonObject().put("amount_received", 9_000).put("currency", "eur"))) {
            JsonObject e = intentEvent("pi_" + id(), invoice, acct, paid);
            deliver(server, e);
            awaitHandled(server, e.getString("id"));
            assertThat(eventStatus(server, e.getString("id"))).isEqualTo("ignored");
        }
        assertThat(value(server, "SELECT status FROM invoices WHERE id = ?", invoice))
                .isEqualTo("draft");
        assertThat(audited(u, "invoice.payment_mismatch")).isEqualTo(2);
        JsonObject full = intentPaying(invoice, acct, 9_000);
        deliver(server, full);
        awaitHandled(server, full.getString("id"));
        assertThat(value(server, "SELECT status FROM invoices WHERE id = ?", invoice))
                .isEqualTo("paid");
    }

    @Test
    void accountUpdatedKeepsChargesAndPayoutsFlagsFromStripe() {
        TestUser u = users.create();
        String acct = "acct_" + id();
        sql(server, "INSERT INTO billing_accounts (account_id, connect_account_id) VALUES (?, ?)", u.accountId(), acct);
        fake.account(acct, true, false);
        // The event's own (stale) flags say nothing is enabled; Stripe's current state wins.
        JsonObject e = FakeStripe.event(
                "account.updated",
                new JsonObject()
                        .put("id", acct)
                        .put("object", "account")
                        .put("charges_enabled", false)
                        .put("payouts_enabled", false),
                acct,
                Stripe.API_VERSION);
        deliver(server, e);
        awaitHandled(server, e.getString("id"));
        JsonObject status =
                server.send(HttpMethod.GET, "/api/v1/connect/status", u.token()).bodyAsJsonObject();
        assertThat(status)
                .isEqualTo(new JsonObject()
                        .put("connected", true)
                        .put("chargesEnabled", true)
                        .put("payoutsEnabled", false));
        assertThat(count(
                        server,
                        "SELECT count(*) FROM audit_log WHERE account_id = ? AND action = 'billing.connect_status_changed' "
                                + "AND actor_type = 'stripe'",
                        u.accountId()))
                .isEqualTo(1);
    }

    @Test
    void failedHandlingIsRetriedLaterAndOwnersCanListAndReplayIt() {
        String customer = "cus_" + id();
        String sub = "sub_" + id();
        TestUser u = subscriber(customer);
        fake.subscription(sub, customer, "active", 0, Instant.now().getEpochSecond() + 86400);
        fake.down(true);
        JsonObject e = event("customer.subscription.updated", fake.subscriptions.get(sub));
        String id = e.getString("id");
        HttpResponse<Buffer> r;
        try {
            r = deliver(server, e);
            assertThat(r.statusCode()).as("stored, so Stripe need not retry").isEqualTo(200);
            awaitHandled(server, id);
        } finally {
            fake.down(false);
        }
        assertThat(eventStatus(server, id)).isEqualTo("failed");
        assertThat((String) value(server, "SELECT last_error FROM stripe_events WHERE id = ?", id))
                .contains("Stripe could not be reached");
        assertThat(value(server, "SELECT next_attempt_at > now() FROM stripe_events WHERE id = ?", id))
                .isEqualTo(true);
        assertThat(subscriptionStatus(u)).isEqualTo("none");
        // The first retry is due in 2 s, which a loaded machine can spend on the requests below; this
        // test is about the owner's replay, so the event waits as one that has used up its tries would.
        sql(server, "UPDATE stripe_events SET next_attempt_at = now() + interval '1 hour' WHERE id = ?", id);

        String path = "/admin/api/webhooks/" + id + "/replay";
        assertThat(TestServer.await(server.request(HttpMethod.GET, "/admin/api/webhooks?status=failed")
                                .send())
                        .statusCode())
                .isEqualTo(401);
        assertThat(TestServer.await(server.request(HttpMethod.POST, path).send())
                        .statusCode())
                .isEqualTo(401);
        TestUser someone = users.create();
        HttpResponse<Buffer> forbidden = server.send(HttpMethod.POST, path, someone.token());
        assertThat(forbidden.statusCode()).isEqualTo(403);
        assertThat(forbidden.bodyAsJsonObject().getString("code")).isEqualTo("not_owner");
        assertThat(server.send(HttpMethod.GET, "/admin/api/webhooks?status=failed", someone.token())
                        .statusCode())
                .isEqualTo(403);

        TestUser owner = ownerUser();
        HttpResponse<Buffer> list =
                server.send(HttpMethod.GET, "/admin/api/webhooks?status=failed&limit=100", owner.token());
        assertThat(list.statusCode()).isEqualTo(200);
        assertThat(list.bodyAsJsonObject().getJsonArray("items").stream().map(o -> ((JsonObject) o).getString("id")))
                .contains(id);
        assertThat(server.send(HttpMethod.POST, "/admin/api/webhooks/evt_doesnotexist/replay", owner.token())
                        .statusCode())
                .isEqualTo(404);
        HttpResponse<Buffer> replay = server.send(HttpMethod.POST, path, owner.token());
        assertThat(replay.statusCode()).as(replay.bodyAsString()).isEqualTo(200);
        eventually("replayed event processed", () -> "processed".equals(eventStatus(server, id)));
        assertThat(subscriptionStatus(u)).isEqualTo("active");
        assertThat(count(
                        server,
                        "SELECT count(*) FROM audit_log WHERE action = 'stripe.webhook_replayed' AND actor_type = 'owner' "
                                + "AND actor_id = ? AND target_id = ?",
                        owner.userId(),
                        id))
                .isEqualTo(1);
    }

    @Test
    void anEventLeftProcessingByACrashedInstanceIsTakenOverAfterItsLease() {
        TestUser u = users.create();
        String acct = connectReady(server, fake, u.accountId());
        UUID invoice = invoice(server, u.accountId(), "customer@example.test", 700);
        JsonObject e = intentPaying(invoice, acct, 700);
        // As if an instance claimed it and died before finishing: status processing, lease run out.
        sql(
                server,
                "INSERT INTO stripe_events (id, type, connect_account, created, status, attempts, lease_until, payload) "
                        + "VALUES (?, ?, ?, now(), 'processing', 1, now() - interval '1 second', ?::jsonb)",
                e.getString("id"),
                e.getString("type"),
                acct,
                e.encode());
        eventually("lease taken over", () -> "processed".equals(eventStatus(server, e.getString("id"))));
        assertThat(value(server, "SELECT attempts FROM stripe_events WHERE id = ?", e.getString("id")))
                .isEqualTo(2);
        assertThat(value(server, "SELECT status FROM invoices WHERE id = ?", invoice))
                .isEqualTo("paid");
        // Its redelivery now changes nothing.
        assertThat(deliver(server, e).bodyAsJsonObject().getBoolean("duplicate"))
                .isTrue();
    }

    /** Every delivery of {@code bodies} handed to {@code service} in one turn of one event loop, as a busy loop would. */
    private static List<Future<StripeWebhookReceipt>> receivedTogether(
            StripeWebhookService service, List<String> bodies) {
        long now = Instant.now().getEpochSecond();
        Promise<List<Future<StripeWebhookReceipt>>> handed = Promise.promise();
        server.vertx
                .getOrCreateContext()
                .runOnContext(v -> handed.complete(bodies.stream()
                        .map(b -> service.receive(
                                new StripeDelivery(Buffer.buffer(b), FakeStripe.sign(SECRET_NEW, now, b))))
                        .toList()));
        List<Future<StripeWebhookReceipt>> answers = TestServer.await(handed.future());
        TestServer.await(Future.join(answers).otherwiseEmpty());
        return answers;
    }

    private static StripeWebhookService webhookService() {
        return new StripeWebhookService(
                List.of(SECRET_NEW),
                java.time.Clock.systemUTC(),
                new StripeEventStore(server.main.db(), server.vertx.eventBus()),
                new io.micrometer.core.instrument.simple.SimpleMeterRegistry());
    }

    @Test
    void deliveriesReceivedTogetherOnOneEventLoopAreStoredInOneTransaction() {
        List<JsonObject> events = List.of(
                event("some.unhandled_type", new JsonObject()),
                event("some.unhandled_type", new JsonObject()),
                event("some.unhandled_type", new JsonObject()));
        List<Future<StripeWebhookReceipt>> answers = receivedTogether(
                webhookService(), events.stream().map(JsonObject::encode).toList());

        assertThat(answers).allSatisfy(a -> assertThat(a.result().duplicate()).isFalse());
        String[] ids = events.stream().map(e -> e.getString("id")).toArray(String[]::new);
        assertThat(count(server, "SELECT count(*) FROM stripe_events WHERE id = ANY(?::text[])", (Object) ids))
                .isEqualTo(3);
        assertThat(count(
                        server,
                        "SELECT count(DISTINCT received_at) FROM stripe_events WHERE id = ANY(?::text[])",
                        (Object) ids))
                .as("stored by one transaction (received_at is its start time, now())")
                .isEqualTo(1);
        eventually("the batch's events handled", () -> java.util.Arrays.stream(ids)
                .allMatch(id -> "ignored".equals(eventStatus(server, id))));
    }

    @Test
    void aBatchWithARedeliveryAnEventSentTwiceAndOneTheDatabaseRefusesAnswersEachAsIfAlone() {
        JsonObject before = event("some.unhandled_type", new JsonObject());
        assertThat(deliver(server, before).statusCode()).isEqualTo(200);
        JsonObject fresh = event("some.unhandled_type", new JsonObject());
        // Signed and well formed, but PostgreSQL's jsonb takes no NUL character: the INSERT fails.
        JsonObject refused = event("some.unhandled_type", new JsonObject().put("note", "a NUL (\0) in it"));

        List<Future<StripeWebhookReceipt>> answers = receivedTogether(
                webhookService(), List.of(before.encode(), fresh.encode(), fresh.encode(), refused.encode()));

        assertThat(answers.get(0).result().duplicate()).as("delivered before").isTrue();
        assertThat(answers.get(1).result().duplicate()).as("first delivery").isFalse();
        assertThat(answers.get(2).result().duplicate())
                .as("second delivery in the batch")
                .isTrue();
        assertThat(answers.get(3).failed()).isTrue();
        assertThat(answers.get(3).cause()).isInstanceOf(uk.co.tradersflow.error.AppError.class);
        assertThat(((uk.co.tradersflow.error.AppError) answers.get(3).cause()).code())
                .isEqualTo(uk.co.tradersflow.error.ErrorCode.SERVICE_UNAVAILABLE);
        assertThat(count(server, "SELECT count(*) FROM stripe_events WHERE id = ANY(?::text[])", (Object)
                        new String[] {before.getString("id"), fresh.getString("id")}))
                .isEqualTo(2);
        assertThat(count(server, "SELECT count(*) FROM stripe_events WHERE id = ?", refused.getString("id")))
                .as("nothing stored for the refused event")
                .isZero();
        eventually("the stored event handled", () -> "ignored".equals(eventStatus(server, fresh.getString("id"))));
    }

    private static TestUser ownerUser() {
        Object existing = value(server, "SELECT id FROM users WHERE email = 'owner@tradersflow.test'");
        if (existing != null) {
            UUID user = (UUID) existing;
            UUID account = (UUID) value(server, "SELECT account_id FROM users WHERE id = ?", user);
            return users.newSession(account, user, "owner@tradersflow.test");
        }
        return users.create("owner@tradersflow.test", true);
    }
}
