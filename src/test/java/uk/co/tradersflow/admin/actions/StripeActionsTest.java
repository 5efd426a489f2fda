package uk.co.tradersflow.admin.actions;

import static org.assertj.core.api.Assertions.assertThat;
import static uk.co.tradersflow.admin.actions.AdminActionsFixtures.action;
import static uk.co.tradersflow.admin.actions.AdminActionsFixtures.auditOf;
import static uk.co.tradersflow.admin.actions.AdminActionsFixtures.billing;
import static uk.co.tradersflow.admin.actions.AdminActionsFixtures.confirmProposed;
import static uk.co.tradersflow.admin.actions.AdminActionsFixtures.problemCode;
import static uk.co.tradersflow.admin.actions.AdminActionsFixtures.proposed;
import static uk.co.tradersflow.admin.actions.AdminActionsFixtures.status;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.time.Instant;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.support.FakeStripe;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.Sql;
import uk.co.tradersflow.support.StaffedServer;
import uk.co.tradersflow.support.TestUsers.TestUser;

/**
 * The actions that reach Stripe: extending a trial moves the subscription's {@code trial_end};
 * a refund is created with an idempotency key derived from the action id, so a confirmation
 * retried after Stripe's answer was lost refunds once; Stripe's refusal is answered 422 with its
 * message and nothing is recorded as refunded.
 */
class StripeActionsTest {
    static final StaffedServer at = AdminActionsFixtures.staffed();
    static FakeStripe stripe;

    @RegisterExtension
    static final ServerExtension lifecycle = AdminActionsFixtures.withFakeStripe(at, f -> stripe = f);

    /** A trader with a Stripe customer and a payment of {@code amount}; the payment intent's id. */
    private static String paidTrader(TestUser trader, long amount) {
        String suffix = UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        billing(trader.accountId(), "cus_" + suffix, null);
        stripe.paymentIntent("pi_" + suffix, "cus_" + suffix, amount);
        return "pi_" + suffix;
    }

    private static long refunded(String paymentIntent) {
        return stripe.paymentIntents
                .get(paymentIntent)
                .getJsonObject("latest_charge")
                .getLong("amount_refunded");
    }

    /** The owner asks to refund {@code amountPence} of {@code pi} (all of it when null); the 202 body. */
    private static JsonObject refundProposed(TestUser trader, String pi, Integer amountPence) {
        JsonObject params = new JsonObject().put("paymentIntentId", pi);
        if (amountPence != null) {
            params.put("amountPence", amountPence);
        }
        return proposed(at.server, at.owner.token(), action("refund", trader.accountId(), params));
    }

    /** The refund requests Stripe received for {@code pi}, oldest first. */
    private static java.util.List<FakeStripe.Request> refundRequests(String pi) {
        return stripe.requests("POST", "/v1/refunds").stream()
                .filter(r -> pi.equals(r.form().get("payment_intent")))
                .toList();
    }

    @Test
    void extendingATrialMovesStripesTrialEndByTheDaysWithTheActionsKey() {
        TestUser trader = at.users.create();
        String sub = "sub_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        billing(trader.accountId(), "cus_" + sub.substring(4), sub);
        long trialEnd = Instant.now().getEpochSecond() + 3 * 86_400L;
        stripe.subscription(sub, "cus_" + sub.substring(4), "trialing", trialEnd, trialEnd);
        JsonObject p = proposed(
                at.server,
                at.owner.token(),
                action("extend_trial", trader.accountId(), new JsonObject().put("days", 10)));
        HttpResponse<Buffer> done = confirmProposed(at.server, at.owner.token(), p);
        assertThat(done.statusCode()).as(done.bodyAsString()).isEqualTo(200);
        long moved = trialEnd + 10 * 86_400L;
        assertThat(stripe.subscriptions.get(sub).getLong("trial_end")).isEqualTo(moved);
        assertThat(done.bodyAsJsonObject().getJsonObject("result"))
                .isEqualTo(new JsonObject()
                        .put("subscriptionId", sub)
                        .put("trialEnd", Instant.ofEpochSecond(moved).toString()));
        FakeStripe.Request update =
                stripe.requests("POST", "/v1/subscriptions/" + sub).get(0);
        assertThat(update.form())
                .containsEntry("trial_end", Long.toString(moved))
                .containsEntry("proration_behavior", "none");
        assertThat(update.idempotencyKey()).isEqualTo("tf-admin-action-" + p.getString("id") + "-extend_trial");
        assertThat(auditOf(p.getString("id")))
                .containsExactly("admin.action_requested", "admin.action_confirmed", "admin.extend_trial");
    }

    @Test
    void aRefundIsCreatedAtStripeWithAKeyDerivedFromTheAction() {
        TestUser trader = at.users.create();
        String pi = paidTrader(trader, 5_000);
        JsonObject p = refundProposed(trader, pi, 1_200);
        HttpResponse<Buffer> done = confirmProposed(at.server, at.owner.token(), p);
        assertThat(done.statusCode()).as(done.bodyAsString()).isEqualTo(200);
        JsonObject result = done.bodyAsJsonObject().getJsonObject("result");
        assertThat(result.getString("refundId")).startsWith("re_");
        assertThat(result.getLong("amountPence")).isEqualTo(1_200);
        assertThat(result.getString("currency")).isEqualTo("GBP");
        assertThat(refunded(pi)).isEqualTo(1_200);
        FakeStripe.Request refund = refundRequests(pi).get(0);
        assertThat(refund.form()).containsEntry("amount", "1200");
        assertThat(refund.idempotencyKey()).isEqualTo("tf-admin-action-" + p.getString("id") + "-refund");
        assertThat(Sql.admin()
                        .string(
                                "SELECT details->'result'->>'refundId' FROM audit_log WHERE target_id = ? AND action = 'admin.refund'",
                                p.getString("id")))
                .isEqualTo(result.getString("refundId"));
        assertThat(status(p.getString("id"))).isEqualTo("done");
    }

    @Test
    void aRefundRetriedAfterStripesAnswerWasLostRefundsOnceWithTheSameKey() {
        TestUser trader = at.users.create();
        String pi = paidTrader(trader, 3_000);
        JsonObject p = refundProposed(trader, pi, null);
        // Every answer lost for the first confirmation: the JDK's HTTP client itself resends a POST
        // whose connection dropped (sun.net.http.retryPost), with the same Idempotency-Key.
        stripe.loseAnswers.set(100);
        HttpResponse<Buffer> lost = confirmProposed(at.server, at.owner.token(), p);
        stripe.loseAnswers.set(0);
        assertThat(lost.statusCode()).as(lost.bodyAsString()).isEqualTo(503);
        assertThat(problemCode(lost)).isEqualTo("stripe_unavailable");
        assertThat(refunded(pi)).as("Stripe did refund").isEqualTo(3_000);
        assertThat(status(p.getString("id")))
                .as("the outcome is unknown: confirmable again")
                .isEqualTo("pending");

        HttpResponse<Buffer> retried = confirmProposed(at.server, at.owner.token(), p);
        assertThat(retried.statusCode()).as(retried.bodyAsString()).isEqualTo(200);
        assertThat(refunded(pi)).as("refunded once").isEqualTo(3_000);
        assertThat(stripe.refunds.values().stream().filter(r -> pi.equals(r.getString("payment_intent"))))
                .hasSize(1);
        var keys = refundRequests(pi).stream()
                .map(FakeStripe.Request::idempotencyKey)
                .toList();
        assertThat(keys)
                .as("every attempt carried the same key")
                .hasSizeGreaterThanOrEqualTo(2)
                .containsOnly("tf-admin-action-" + p.getString("id") + "-refund");
        assertThat(auditOf(p.getString("id")))
                .containsExactly(
                        "admin.action_requested",
                        "admin.action_confirmed",
                        "admin.action_failed",
                        "admin.action_confirmed",
                        "admin.refund");
    }

    @Test
    void stripesRefusalIsAnswered422WithItsMessageAndNothingIsRecordedAsRefunded() {
        TestUser trader = at.users.create();
        String pi = paidTrader(trader, 2_000);
        JsonObject p = refundProposed(trader, pi, 1_500);
        // Refunded elsewhere (the Stripe dashboard) between the request and its confirmation.
        stripe.paymentIntents.get(pi).getJsonObject("latest_charge").put("amount_refunded", 1_000L);
        HttpResponse<Buffer> refused = confirmProposed(at.server, at.owner.token(), p);
        assertThat(refused.statusCode()).as(refused.bodyAsString()).isEqualTo(422);
        assertThat(problemCode(refused)).isEqualTo("stripe_refused");
        assertThat(refused.bodyAsJsonObject().getString("detail"))
                .isEqualTo("Refund amount (£15.00) is greater than unrefunded amount on charge (£10.00)");
        assertThat(refunded(pi)).isEqualTo(1_000);
        assertThat(status(p.getString("id"))).isEqualTo("failed");
        assertThat(auditOf(p.getString("id")))
                .containsExactly("admin.action_requested", "admin.action_confirmed", "admin.action_failed")
                .doesNotContain("admin.refund");
        assertThat(Sql.admin()
                        .string(
                                "SELECT details->>'code' FROM audit_log WHERE target_id = ? AND action = 'admin.action_failed'",
                                p.getString("id")))
                .isEqualTo("stripe_refused");
    }
}
