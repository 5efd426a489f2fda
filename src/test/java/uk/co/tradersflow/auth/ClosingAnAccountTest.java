package uk.co.tradersflow.auth;

import static io.vertx.core.http.HttpMethod.DELETE;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.support.FakeStripe;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.Sql;
import uk.co.tradersflow.support.TestServer;

/**
 * Closing an account stops its billing within seconds: the closure signals the retention job,
 * whose own timer (every 5 minutes) has not fired yet in this test, so only the signal can
 * have reached Stripe.
 */
class ClosingAnAccountTest {
    static FakeStripe stripe;

    @RegisterExtension
    static final ServerExtension lifecycle = ServerExtension.with(() -> {
                stripe = new FakeStripe();
                return Map.of(
                        "TF_SMTP_PORT",
                        Integer.toString(TestServer.freePort()),
                        "TF_STRIPE_SECRET_KEY",
                        "sk_test_closing",
                        "TF_STRIPE_API_BASE",
                        stripe.base());
            })
            .closing(() -> stripe)
            .then(s -> SignInFlowTest.server = s);

    @Test
    void closingTheAccountCancelsItsStripeSubscriptionWithinSeconds() throws Exception {
        String email = SignInFlowTest.email();
        String token = SignInFlowTest.signedUpAndIn(email).getString("accessToken");
        String sub = "sub_closing" + System.nanoTime();
        String customer = "cus_closing" + System.nanoTime();
        stripe.subscription(sub, customer, "active", 0, 0);
        Sql.admin()
                .update(
                        "INSERT INTO billing_accounts (account_id, stripe_customer_id, subscription_id, subscription_status) "
                                + "SELECT account_id, '" + customer + "', '" + sub
                                + "', 'active' FROM users WHERE email = '" + email + "'");
        HttpResponse<Buffer> closed = SignInFlowTest.server.send(
                DELETE, "/api/v1/me", token, new JsonObject().put("password", SignInFlowTest.PASSWORD));
        assertThat(closed.statusCode()).as(closed.bodyAsString()).isEqualTo(202);

        long deadline = System.nanoTime() + 10_000_000_000L;
        while (stripe.requests("DELETE", "/v1/subscriptions/" + sub).isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(stripe.requests("DELETE", "/v1/subscriptions/" + sub))
                .as("cancelled at Stripe within seconds")
                .hasSize(1);
        long until = System.nanoTime() + 5_000_000_000L;
        String status = null;
        while (System.nanoTime() < until && !"cancelled".equals(status)) {
            status = Sql.admin()
                    .strings("SELECT subscription_status FROM billing_accounts WHERE subscription_id = ?", sub)
                    .get(0);
            Thread.sleep(50);
        }
        assertThat(status).as("and recorded as cancelled").isEqualTo("cancelled");
    }
}
