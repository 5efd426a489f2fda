package uk.co.tradersflow.billing;

import static io.vertx.core.http.HttpMethod.GET;
import static io.vertx.core.http.HttpMethod.POST;
import static org.assertj.core.api.Assertions.assertThat;
import static uk.co.tradersflow.billing.BillingFixtures.*;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import uk.co.tradersflow.support.FakeStripe;
import uk.co.tradersflow.support.Sql;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

class BillingRoutesTest extends FakeStripeServerTest {

    private static List<FakeStripe.Request> customersCreatedFor(UUID account) {
        return fake.requestsWithMetadata("POST", "/v1/customers", "tf_account_id", account);
    }

    /** Checkouts of one account on two instances do not take turns; they still leave one session to pay. */
    @Test
    void checkoutsOfOneAccountOnTwoInstancesLeaveOneOpenSession() {
        TestUser u = users.create();
        java.util.Map<String, String> sameKeys = new java.util.HashMap<>(BillingFixtures.settings(fake));
        sameKeys.put("TF_DEV_DATA_DIR", server.config.ops().devDataDir().toString());
        try (TestServer second = TestServer.start(sameKeys)) {
            List<Future<HttpResponse<Buffer>>> sends = IntStream.range(0, 6)
                    .mapToObj(i -> (i % 2 == 0 ? server : second)
                            .request(POST, "/api/v1/billing/checkout-session", u.token())
                            .send())
                    .toList();
            allAnswered200(sends);
        }
        String customer = (String)
                value(server, "SELECT stripe_customer_id FROM billing_accounts WHERE account_id = ?", u.accountId());
        assertThat(fake.checkoutSessions.values().stream()
                        .filter(cs -> customer.equals(cs.getString("customer")))
                        .filter(cs -> "open".equals(cs.getString("status"))))
                .hasSize(1);
        assertThat(customersCreatedFor(u.accountId()))
                .extracting(FakeStripe.Request::idempotencyKey)
                .containsOnly("tf-customer-" + u.accountId());
    }

    @Test
    void checkoutCreatesTheStripeCustomerOnceWithIdempotencyKeysAndTheTrial() {
        TestUser u = users.create();
        List<Future<HttpResponse<Buffer>>> sends = IntStream.range(0, 5)
                .mapToObj(i -> server.request(POST, "/api/v1/billing/checkout-session", u.token())
                        .send())
                .toList();
        TestServer.await(Future.all(sends));
        sends.forEach(f -> {
            assertThat(f.result().statusCode()).as(f.result().bodyAsString()).isEqualTo(200);
            assertThat(f.result().bodyAsJsonObject().getString("url"))
                    .startsWith("https://checkout.stripe.com/c/pay/cs_test_");
        });
        HttpResponse<Buffer> again = server.send(POST, "/api/v1/billing/checkout-session", u.token());
        assertThat(again.statusCode()).isEqualTo(200);

        assertThat(customersCreatedFor(u.accountId())).hasSize(1);
        assertThat(customersCreatedFor(u.accountId()).get(0).idempotencyKey())
                .isEqualTo("tf-customer-" + u.accountId());
        String customer = (String)
                value(server, "SELECT stripe_customer_id FROM billing_accounts WHERE account_id = ?", u.accountId());
        assertThat(customer).startsWith("cus_");
        List<FakeStripe.Request> sessions = fake.requests("POST", "/v1/checkout/sessions").stream()
                .filter(r -> customer.equals(r.form().get("customer")))
                .toList();
        assertThat(sessions).hasSize(6);
        assertThat(sessions).allSatisfy(r -> {
            assertThat(r.idempotencyKey()).startsWith("tf-checkout-" + u.accountId());
            assertThat(r.form())
                    .containsEntry("mode", "subscription")
                    .containsEntry("line_items[0][price]", "price_test_monthly")
                    .containsEntry("subscription_data[trial_period_days]", "14")
                    .containsEntry("client_reference_id", u.accountId().toString());
        });
        assertThat(sessions.stream().map(FakeStripe.Request::idempotencyKey).distinct())
                .hasSize(6);
        assertThat(fake.requests.stream().filter(r -> r.method().equals("POST")))
                .allSatisfy(r -> assertThat(r.idempotencyKey()).isNotBlank());
        // We store a reference and a status, nothing of the card.
        assertThat(server.send(GET, "/api/v1/billing/subscription", u.token()).bodyAsJsonObject())
                .isEqualTo(new JsonObject()
                        .put("status", "none")
                        .putNull("trialEnd")
                        .putNull("currentPeriodEnd")
                        .put("cancelAtPeriodEnd", false));
    }

    /**
     * The customer is created at Stripe with no database connection held, so another request (on
     * another instance) may store one meanwhile: the one stored first is kept, and used, and the
     * one made later is neither stored nor audited as the account's.
     */
    @Test
    void aCustomerStoredWhileStripeWasCreatingOneIsTheOneKeptAndUsed() {
        TestUser u = users.create();
        String stored = "cus_first" + u.accountId().toString().replace("-", "").substring(0, 12);
        fake.slow("/v1/customers", java.time.Duration.ofSeconds(2));
        try {
            Future<HttpResponse<Buffer>> checkout = server.request(POST, "/api/v1/billing/checkout-session", u.token())
                    .send();
            eventually("the customer being created at Stripe", () -> !customersCreatedFor(u.accountId())
                    .isEmpty());
            sql(
                    server,
                    "INSERT INTO billing_accounts (account_id, stripe_customer_id) VALUES (?, ?)",
                    u.accountId(),
                    stored);
            HttpResponse<Buffer> r = TestServer.await(checkout);
            assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
        } finally {
            fake.slow("/v1/customers", java.time.Duration.ZERO);
        }
        assertThat(value(server, "SELECT stripe_customer_id FROM billing_accounts WHERE account_id = ?", u.accountId()))
                .isEqualTo(stored);
        assertThat(sessionsFor(u)).singleElement().satisfies(cs -> assertThat(cs.form())
                .containsEntry("customer", stored));
        assertThat(count(
                        server,
                        "SELECT count(*) FROM audit_log WHERE account_id = ? AND action = 'billing.customer_created'",
                        u.accountId()))
                .isZero();
    }

    /** Onboardings started at once (a double click) take turns: one connected account comes of them. */
    @Test
    void onboardingsStartedAtOnceMakeOneConnectedAccount() {
        TestUser u = users.create();
        List<Future<HttpResponse<Buffer>>> sends = IntStream.range(0, 4)
                .mapToObj(i -> server.request(POST, "/api/v1/connect/onboarding-link", u.token())
                        .send())
                .toList();
        allAnswered200(sends);
        assertThat(fake.requestsWithMetadata("POST", "/v1/accounts", "tf_account_id", u.accountId()))
                .hasSize(1);
        String acct = (String)
                value(server, "SELECT connect_account_id FROM billing_accounts WHERE account_id = ?", u.accountId());
        assertThat(fake.requests("POST", "/v1/account_links").stream()
                        .filter(r -> acct.equals(r.form().get("account"))))
                .hasSize(4);
        assertThat(count(
                        server,
                        "SELECT count(*) FROM audit_log WHERE account_id = ? AND action = 'billing.connect_account_created'",
                        u.accountId()))
                .isEqualTo(1);
    }

    @Test
    void aSecondCheckoutWhileASubscriptionIsLiveIsRefused() throws Exception {
        TestUser u = users.create();
        Sql.admin()
                .update(
                        "INSERT INTO billing_accounts (account_id, stripe_customer_id, subscription_id, subscription_status) VALUES ('"
                                + u.accountId() + "', 'cus_live"
                                + u.accountId().toString().replace("-", "") + "', 'sub_live"
                                + u.accountId().toString().replace("-", "") + "', 'trialing')");
        HttpResponse<Buffer> r = server.send(POST, "/api/v1/billing/checkout-session", u.token());
        assertThat(r.statusCode()).isEqualTo(409);
        assertThat(fake.requests("POST", "/v1/checkout/sessions").stream()
                        .filter(req ->
                                u.accountId().toString().equals(req.form().get("client_reference_id"))))
                .isEmpty();
    }

    private static List<FakeStripe.Request> sessionsFor(TestUser u) {
        return fake.requests("POST", "/v1/checkout/sessions").stream()
                .filter(req -> u.accountId().toString().equals(req.form().get("client_reference_id")))
                .toList();
    }

    private static String customerOf(TestUser u) throws Exception {
        List<String> customers = Sql.admin()
                .strings("SELECT stripe_customer_id FROM billing_accounts WHERE account_id = ?", u.accountId());
        assertThat(customers).isNotEmpty();
        return customers.get(0);
    }

    /**
     * Checkout completed at Stripe, its webhook not here yet: our row still says none, Stripe
     * knows better, and a second checkout (another tab, a second click) would bill twice.
     */
    @Test
    void aSubscriptionStripeHasButNoWebhookReportedYetRefusesASecondCheckout() throws Exception {
        TestUser u = users.create();
        assertThat(server.send(POST, "/api/v1/billing/checkout-session", u.token())
                        .statusCode())
                .isEqualTo(200);
        fake.subscription(
                "sub_unreported" + UUID.randomUUID().toString().replace("-", ""), customerOf(u), "trialing", 0, 0);
        HttpResponse<Buffer> second = server.send(POST, "/api/v1/billing/checkout-session", u.token());
        assertThat(second.statusCode()).as(second.bodyAsString()).isEqualTo(409);
        assertThat(sessionsFor(u)).hasSize(1);
    }

    /**
     * Checkouts started at once (a double click, two tabs) take turns under the billing row's lock
     * and expire the sessions before them: only one can be paid, so one subscription comes of them.
     */
    @Test
    void checkoutsStartedAtOnceLeaveOnlyTheNewestSessionOpen() throws Exception {
        TestUser u = users.create();
        List<Future<HttpResponse<Buffer>>> sends = IntStream.range(0, 4)
                .mapToObj(i -> server.request(POST, "/api/v1/billing/checkout-session", u.token())
                        .send())
                .toList();
        allAnswered200(sends);
        String customer = customerOf(u);
        List<JsonObject> sessions = fake.checkoutSessions.values().stream()
                .filter(cs -> customer.equals(cs.getString("customer")))
                .toList();
        assertThat(sessions).hasSize(4);
        assertThat(sessions)
                .filteredOn(cs -> cs.getString("status").equals("open"))
                .as("one left to pay")
                .hasSize(1);
    }

    /** One trial per customer: after a cancelled subscription, checkout starts billing at once. */
    @Test
    void aCustomerWhoHadASubscriptionChecksOutWithoutAnotherTrial() throws Exception {
        TestUser u = users.create();
        assertThat(server.send(POST, "/api/v1/billing/checkout-session", u.token())
                        .statusCode())
                .isEqualTo(200);
        fake.subscription("sub_ended" + UUID.randomUUID().toString().replace("-", ""), customerOf(u), "canceled", 0, 0);
        assertThat(server.send(POST, "/api/v1/billing/checkout-session", u.token())
                        .statusCode())
                .isEqualTo(200);
        List<FakeStripe.Request> sessions = sessionsFor(u);
        assertThat(sessions).hasSize(2);
        assertThat(sessions.get(0).form()).containsEntry("subscription_data[trial_period_days]", "14");
        assertThat(sessions.get(1).form())
                .doesNotContainKey("subscription_data[trial_period_days]")
                .containsEntry(
                        "subscription_data[metadata][tf_account_id]",
                        u.accountId().toString());
    }

    @Test
    void portalNeedsACustomerThenOpensStripesPortal() {
        TestUser u = users.create();
        HttpResponse<Buffer> early = server.send(POST, "/api/v1/billing/portal-session", u.token());
        assertThat(early.statusCode()).isEqualTo(409);
        server.send(POST, "/api/v1/billing/checkout-session", u.token());
        HttpResponse<Buffer> r = server.send(POST, "/api/v1/billing/portal-session", u.token());
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
        assertThat(r.bodyAsJsonObject().getString("url")).startsWith("https://billing.stripe.com/p/session/");
        assertThat(fake.requests("POST", "/v1/billing_portal/sessions"))
                .anySatisfy(req -> assertThat(req.idempotencyKey()).startsWith("tf-portal-" + u.accountId()));
    }

    @Test
    void onboardingCreatesTheConnectedAccountOnceAndStatusStartsDisabled() {
        TestUser u = users.create();
        assertThat(server.send(GET, "/api/v1/connect/status", u.token()).bodyAsJsonObject())
                .isEqualTo(new JsonObject()
                        .put("connected", false)
                        .put("chargesEnabled", false)
                        .put("payoutsEnabled", false));
        for (int i = 0; i < 2; i++) {
            HttpResponse<Buffer> r = server.send(POST, "/api/v1/connect/onboarding-link", u.token());
            assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
            assertThat(r.bodyAsJsonObject().getString("url")).startsWith("https://connect.stripe.com/setup/");
        }
        List<FakeStripe.Request> created = fake.requests("POST", "/v1/accounts").stream()
                .filter(r -> u.accountId().toString().equals(r.form().get("metadata[tf_account_id]")))
                .toList();
        assertThat(created).hasSize(1);
        assertThat(created.get(0).idempotencyKey()).isEqualTo("tf-connect-" + u.accountId());
        assertThat(created.get(0).form()).containsEntry("type", "express");
        String acct = (String)
                value(server, "SELECT connect_account_id FROM billing_accounts WHERE account_id = ?", u.accountId());
        assertThat(fake.requests("POST", "/v1/account_links").stream()
                        .filter(r -> acct.equals(r.form().get("account"))))
                .hasSize(2)
                .allSatisfy(r -> assertThat(r.form()).containsEntry("type", "account_onboarding"));
        assertThat(server.send(GET, "/api/v1/connect/status", u.token()).bodyAsJsonObject())
                .isEqualTo(new JsonObject()
                        .put("connected", true)
                        .put("chargesEnabled", false)
                        .put("payoutsEnabled", false));
    }

    @Test
    void stripeDownAnswers503AndLeavesNothingHalfWritten() {
        TestUser u = users.create();
        fake.down(true);
        try {
            for (String path : List.of("/api/v1/billing/checkout-session", "/api/v1/connect/onboarding-link")) {
                HttpResponse<Buffer> r = server.send(POST, path, u.token());
                assertThat(r.statusCode()).as(path).isEqualTo(503);
                assertThat(r.bodyAsJsonObject().getString("code")).isEqualTo("stripe_unavailable");
                assertThat(r.bodyAsString()).doesNotContain("127.0.0.1").doesNotContain("Exception");
            }
        } finally {
            fake.down(false);
        }
        assertThat(count(server, "SELECT count(*) FROM billing_accounts WHERE account_id = ?", u.accountId()))
                .isZero();
        assertThat(count(
                        server,
                        "SELECT count(*) FROM audit_log WHERE account_id = ? AND action LIKE 'billing.%'",
                        u.accountId()))
                .isZero();
        // Once Stripe is back the same request works, and still makes one customer.
        assertThat(server.send(POST, "/api/v1/billing/checkout-session", u.token())
                        .statusCode())
                .isEqualTo(200);
        assertThat(value(server, "SELECT stripe_customer_id FROM billing_accounts WHERE account_id = ?", u.accountId()))
                .isNotNull();
    }

    @Test
    void withoutStripeSettingsEveryBillingRouteAnswers503() {
        // Sending an invoice is not a billing route: without Stripe it goes out without a payment
        // link (InvoiceSendWithoutStripeTest).
        Map<String, String> none = new HashMap<>();
        try (TestServer bare = TestServer.start(none)) {
            TestUser u = new TestUsers(bare).create();
            UUID invoice = invoice(bare, u.accountId(), "c@example.test", 100);
            for (var call : List.of(
                    List.of("POST", "/api/v1/billing/checkout-session"),
                            List.of("POST", "/api/v1/billing/portal-session"),
                    List.of("GET", "/api/v1/billing/subscription"), List.of("POST", "/api/v1/connect/onboarding-link"),
                    List.of("GET", "/api/v1/connect/status"),
                            List.of("POST", "/api/v1/invoices/" + invoice + "/payment-link"))) {
                HttpResponse<Buffer> r =
                        bare.send(io.vertx.core.http.HttpMethod.valueOf(call.get(0)), call.get(1), u.token());
                assertThat(r.statusCode()).as(call.toString()).isEqualTo(503);
                assertThat(r.bodyAsJsonObject().getString("code")).isEqualTo("billing_not_configured");
            }
            String body = FakeStripe.event("x.y", new JsonObject(), null, "v").encode();
            HttpResponse<Buffer> hook =
                    deliver(bare, body, FakeStripe.sign(SECRET_NEW, System.currentTimeMillis() / 1000, body));
            assertThat(hook.statusCode()).isEqualTo(503);
            assertThat(hook.bodyAsJsonObject().getString("code")).isEqualTo("webhook_not_configured");
        }
    }

    /** Waits for every request and expects each to have answered 200. */
    private static void allAnswered200(List<Future<HttpResponse<Buffer>>> sends) {
        TestServer.await(Future.all(sends));
        sends.forEach(f -> assertThat(f.result().statusCode())
                .as(f.result().bodyAsString())
                .isEqualTo(200));
    }
}
