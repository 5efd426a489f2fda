package uk.co.tradersflow.admin.actions;

import static org.assertj.core.api.Assertions.assertThat;
import static uk.co.tradersflow.admin.actions.AdminActionsFixtures.action;
import static uk.co.tradersflow.admin.actions.AdminActionsFixtures.billing;
import static uk.co.tradersflow.admin.actions.AdminActionsFixtures.proposed;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.support.FakeStripe;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.Sql;
import uk.co.tradersflow.support.StaffedServer;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers.TestUser;

/**
 * Confirmations of one action fired together, over several connections at once: exactly one
 * performs it and every other is refused 409 {@code action_already_confirmed}, so a suspension is
 * recorded once and a refund reaches Stripe once.
 */
class ConfirmRaceTest {
    static final int TOGETHER = 8;
    static final StaffedServer at = AdminActionsFixtures.staffed();
    static FakeStripe stripe;

    @RegisterExtension
    static final ServerExtension lifecycle = AdminActionsFixtures.withFakeStripe(at, f -> stripe = f);

    /** Sends every confirmation before awaiting any; the statuses and codes answered, counted. */
    private static Map<String, Long> confirmTogether(JsonObject proposed) {
        List<Future<HttpResponse<Buffer>>> sent = new ArrayList<>();
        for (int i = 0; i < TOGETHER; i++) {
            sent.add(at.server
                    .request(
                            HttpMethod.POST,
                            "/admin/api/actions/" + proposed.getString("id") + "/confirm",
                            at.owner.token())
                    .sendJsonObject(
                            new JsonObject().put("confirmationToken", proposed.getString("confirmationToken"))));
        }
        TestServer.await(Future.join(sent));
        return sent.stream()
                .map(f -> f.result().statusCode() == 200
                        ? "200"
                        : f.result().statusCode() + " "
                                + f.result().bodyAsJsonObject().getString("code"))
                .collect(Collectors.groupingBy(Function.identity(), Collectors.counting()));
    }

    @Test
    void confirmationsFiredTogetherSuspendTheAccountOnce() {
        TestUser trader = at.users.create();
        JsonObject p = proposed(
                at.server,
                at.owner.token(),
                action("suspend", trader.accountId(), new JsonObject().put("reason", "fraud")));
        assertThat(confirmTogether(p))
                .containsExactlyInAnyOrderEntriesOf(
                        Map.of("200", 1L, "409 action_already_confirmed", (long) TOGETHER - 1));
        assertThat(Sql.admin()
                        .count(
                                "SELECT count(*) FROM audit_log WHERE account_id = ? AND action = 'account_suspended'",
                                trader.accountId()))
                .isEqualTo(1);
        assertThat(Sql.admin()
                        .count(
                                "SELECT count(*) FROM audit_log WHERE target_id = ? AND action = 'admin.action_confirmed'",
                                p.getString("id")))
                .isEqualTo(1);
        assertThat(Sql.admin()
                        .count(
                                "SELECT count(*) FROM audit_log WHERE target_id = ? AND action = 'admin.confirmation_refused'",
                                p.getString("id")))
                .isEqualTo(TOGETHER - 1);
    }

    @Test
    void confirmationsFiredTogetherRefundOnce() {
        TestUser trader = at.users.create();
        billing(trader.accountId(), "cus_race1", null);
        stripe.paymentIntent("pi_race1", "cus_race1", 4_000);
        JsonObject p = proposed(
                at.server,
                at.owner.token(),
                action(
                        "refund",
                        trader.accountId(),
                        new JsonObject().put("paymentIntentId", "pi_race1").put("amountPence", 1_000)));
        assertThat(confirmTogether(p))
                .containsExactlyInAnyOrderEntriesOf(
                        Map.of("200", 1L, "409 action_already_confirmed", (long) TOGETHER - 1));
        assertThat(stripe.requests("POST", "/v1/refunds")).hasSize(1);
        assertThat(stripe.paymentIntents
                        .get("pi_race1")
                        .getJsonObject("latest_charge")
                        .getLong("amount_refunded"))
                .isEqualTo(1_000);
    }
}
