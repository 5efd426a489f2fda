package uk.co.tradersflow.admin.actions;

import static org.assertj.core.api.Assertions.assertThat;
import static uk.co.tradersflow.admin.actions.AdminActionsFixtures.action;
import static uk.co.tradersflow.admin.actions.AdminActionsFixtures.actionsStored;
import static uk.co.tradersflow.admin.actions.AdminActionsFixtures.ask;
import static uk.co.tradersflow.admin.actions.AdminActionsFixtures.auditOf;
import static uk.co.tradersflow.admin.actions.AdminActionsFixtures.billing;
import static uk.co.tradersflow.admin.actions.AdminActionsFixtures.problemCode;
import static uk.co.tradersflow.admin.actions.AdminActionsFixtures.proposed;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.support.FakeStripe;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.Sql;
import uk.co.tradersflow.support.StaffedServer;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers.TestUser;

/**
 * {@code POST /admin/api/actions}: every invalid request answered 422 with its field errors (or
 * 404, 409, 403) with nothing stored, and a valid one stored pending, its token only hashed,
 * nothing done yet; each request and refusal on the record.
 */
class AdminActionRequestTest {
    static final StaffedServer at = AdminActionsFixtures.staffed();
    static FakeStripe stripe;
    static TestUser trader;

    @RegisterExtension
    static final ServerExtension lifecycle = AdminActionsFixtures.withFakeStripe(at, f -> stripe = f)
            .then(s -> {
                trader = at.users.create();
                billing(trader.accountId(), "cus_trader1", "sub_trader1");
                stripe.paymentIntent("pi_trader1", "cus_trader1", 2_500);
                stripe.paymentIntent("pi_someoneelse", "cus_someoneelse", 9_900);
                stripe.subscription(
                        "sub_trader1", "cus_trader1", "trialing", Instant.now().getEpochSecond() + 86_400, 0);
            });

    /** Asks as the owner; the 422's field errors as {@code field: message}, nothing stored. */
    private static List<String> fieldErrors(JsonObject body) {
        long before = actionsStored();
        HttpResponse<Buffer> r = ask(at.server, at.owner.token(), body);
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(422);
        assertThat(problemCode(r)).isEqualTo("validation_failed");
        assertThat(actionsStored()).as("nothing stored").isEqualTo(before);
        JsonArray errors = r.bodyAsJsonObject().getJsonArray("errors");
        return errors.stream()
                .map(e -> ((JsonObject) e).getString("field") + ": " + ((JsonObject) e).getString("message"))
                .toList();
    }

    @Test
    void anUnknownOrMissingActionIsAFieldError() {
        assertThat(fieldErrors(action("delete_everything", trader.accountId(), new JsonObject())))
                .singleElement()
                .asString()
                .startsWith(
                        "action: must be one of signin_link, refund, suspend, reinstate, extend_trial, export_report");
        assertThat(fieldErrors(
                        new JsonObject().put("accountId", trader.accountId().toString())))
                .containsExactly("action: is required");
    }

    @Test
    void suspendWithoutAReasonIsAFieldError() {
        assertThat(fieldErrors(action("suspend", trader.accountId(), new JsonObject())))
                .containsExactly("params.reason: is required");
        assertThat(fieldErrors(action("suspend", trader.accountId(), new JsonObject().put("reason", "   "))))
                .containsExactly("params.reason: is required");
    }

    @Test
    void trialDaysOutsideOneToNinetyAreFieldErrors() {
        for (Object days : new Object[] {0, 91, -3, "7", 1.5}) {
            assertThat(fieldErrors(action("extend_trial", trader.accountId(), new JsonObject().put("days", days))))
                    .as("days = " + days)
                    .singleElement()
                    .asString()
                    .startsWith("params.days: must be");
        }
        assertThat(fieldErrors(action("extend_trial", trader.accountId(), new JsonObject())))
                .containsExactly("params.days: is required");
    }

    @Test
    void aRefundOfNothingOrMoreThanIsLeftIsAFieldError() {
        assertThat(fieldErrors(action(
                        "refund",
                        trader.accountId(),
                        new JsonObject().put("paymentIntentId", "pi_trader1").put("amountPence", 0))))
                .singleElement()
                .asString()
                .startsWith("params.amountPence: must be between 1 and");
        assertThat(fieldErrors(action(
                        "refund",
                        trader.accountId(),
                        new JsonObject().put("paymentIntentId", "pi_trader1").put("amountPence", 2_501))))
                .containsExactly("params.amountPence: must be at most 2500, what is left to refund of this payment");
        assertThat(fieldErrors(action("refund", trader.accountId(), new JsonObject())))
                .containsExactly("params.paymentIntentId: is required");
        assertThat(fieldErrors(action(
                        "refund", trader.accountId(), new JsonObject().put("paymentIntentId", "ch_not_an_intent"))))
                .singleElement()
                .asString()
                .startsWith("params.paymentIntentId: must be a Stripe payment intent id");
    }

    @Test
    void aRefundOfAnotherAccountsPaymentOrOfNoPaymentIsAFieldError() {
        assertThat(fieldErrors(action(
                        "refund", trader.accountId(), new JsonObject().put("paymentIntentId", "pi_someoneelse"))))
                .containsExactly("params.paymentIntentId: is not a payment of this account");
        assertThat(fieldErrors(action(
                        "refund", trader.accountId(), new JsonObject().put("paymentIntentId", "pi_nosuchpayment"))))
                .containsExactly("params.paymentIntentId: No such payment_intent: pi_nosuchpayment");
    }

    @Test
    void aReportOutsideTheFourIsAFieldError() {
        assertThat(fieldErrors(action("export_report", null, new JsonObject().put("report", "passwords"))))
                .containsExactly("params.report: must be one of accounts, subscriptions, emails, audit");
        assertThat(fieldErrors(action("suspend", null, new JsonObject().put("reason", "fraud"))))
                .containsExactly("accountId: is required");
    }

    @Test
    void anUnknownAccountIs404AndRecorded() {
        long before = actionsStored();
        UUID nobody = UUID.randomUUID();
        HttpResponse<Buffer> r =
                ask(at.server, at.owner.token(), action("suspend", nobody, new JsonObject().put("reason", "x")));
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(404);
        assertThat(actionsStored()).isEqualTo(before);
        assertThat(Sql.admin()
                        .count(
                                "SELECT count(*) FROM audit_log WHERE action = 'admin.action_refused' AND account_id = ? "
                                        + "AND actor_type = 'owner' AND actor_id = ? AND details->>'code' = 'not_found'",
                                nobody,
                                at.owner.userId()))
                .isEqualTo(1);
    }

    @Test
    void reinstatingAnActiveAccountIsAConflict() {
        HttpResponse<Buffer> r =
                ask(at.server, at.owner.token(), action("reinstate", trader.accountId(), new JsonObject()));
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(409);
        assertThat(problemCode(r)).isEqualTo("conflict");
    }

    @Test
    void aValidRequestIsStoredPendingWithItsTokenHashedAndNothingHappensYet() throws Exception {
        Instant asked = Instant.now();
        JsonObject body = proposed(
                at.server,
                at.owner.token(),
                action("suspend", trader.accountId(), new JsonObject().put("reason", "chargebacks")));
        String id = body.getString("id");
        String token = body.getString("confirmationToken");
        assertThat(body.getString("action")).isEqualTo("suspend");
        assertThat(body.getString("accountId")).isEqualTo(trader.accountId().toString());
        assertThat(body.getString("summary")).contains("Suspend").contains("chargebacks");
        assertThat(Duration.between(asked, Instant.parse(body.getString("expiresAt"))))
                .isBetween(Duration.ofMinutes(4), Duration.ofMinutes(5).plusSeconds(5));
        // 256 random bits, base64url, behind a prefix.
        assertThat(token).startsWith("tfc_").hasSize(4 + 43);

        String storedHash =
                Sql.admin().string("SELECT encode(token_hash, 'hex') FROM admin_actions WHERE id = ?::uuid", id);
        assertThat(storedHash)
                .isEqualTo(HexFormat.of()
                        .formatHex(
                                MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8))));
        assertThat(Sql.admin().string("SELECT row_to_json(a)::text FROM admin_actions a WHERE id = ?::uuid", id))
                .as("the token itself is stored nowhere")
                .doesNotContain(token.substring(4));
        assertThat(Sql.admin().string("SELECT requested_by::text FROM admin_actions WHERE id = ?::uuid", id))
                .isEqualTo(at.owner.userId().toString());
        assertThat(AdminActionsFixtures.status(id)).isEqualTo("pending");
        assertThat(Sql.admin().string("SELECT status FROM accounts WHERE id = ?", trader.accountId()))
                .as("nothing happens before confirmation")
                .isEqualTo("active");
        assertThat(auditOf(id)).containsExactly("admin.action_requested");
        assertThat(Sql.admin()
                        .string(
                                "SELECT actor_type || ' ' || actor_id || ' ' || account_id FROM audit_log "
                                        + "WHERE target_id = ? AND action = 'admin.action_requested'",
                                id))
                .isEqualTo("owner " + at.owner.userId() + " " + trader.accountId());
        assertThat(Sql.admin().string("SELECT details::text FROM audit_log WHERE target_id = ?", id))
                .doesNotContain(token.substring(4));
    }

    @Test
    void anExtendedTrialIsFixedFromStripesTrialEndWhenAsked() {
        JsonObject body = proposed(
                at.server,
                at.owner.token(),
                action("extend_trial", trader.accountId(), new JsonObject().put("days", 7)));
        long trialEnd = stripe.subscriptions.get("sub_trader1").getLong("trial_end");
        assertThat(Sql.admin()
                        .string(
                                "SELECT params->>'trialEnd' FROM admin_actions WHERE id = ?::uuid",
                                body.getString("id")))
                .isEqualTo(Instant.ofEpochSecond(trialEnd + 7 * 86_400L).toString());
        assertThat(stripe.requests("POST", "/v1/subscriptions/sub_trader1"))
                .as("nothing sent yet")
                .isEmpty();
    }

    @Test
    void supportMayAskOnlyForSignInLinksAndNotIntoAStaffAccount() {
        long before = actionsStored();
        long deniedBefore = deniedSupport();
        for (String a : new String[] {"refund", "suspend", "reinstate", "extend_trial", "export_report", "nonsense"}) {
            HttpResponse<Buffer> r = ask(
                    at.server,
                    at.support.token(),
                    action(
                            a,
                            trader.accountId(),
                            new JsonObject().put("reason", "r").put("days", 3)));
            assertThat(r.statusCode()).as(a + ": " + r.bodyAsString()).isEqualTo(403);
            assertThat(problemCode(r)).isEqualTo("insufficient_role");
        }
        HttpResponse<Buffer> staffAccount =
                ask(at.server, at.support.token(), action("signin_link", at.owner.accountId(), new JsonObject()));
        assertThat(staffAccount.statusCode()).as(staffAccount.bodyAsString()).isEqualTo(403);
        assertThat(problemCode(staffAccount)).isEqualTo("insufficient_role");
        assertThat(actionsStored()).as("nothing stored").isEqualTo(before);
        assertThat(deniedSupport() - deniedBefore).as("each refusal recorded").isEqualTo(7);

        JsonObject link =
                proposed(at.server, at.support.token(), action("signin_link", trader.accountId(), new JsonObject()));
        assertThat(link.getString("summary")).contains(trader.email());
    }

    private static long deniedSupport() {
        return Sql.admin()
                .count(
                        "SELECT count(*) FROM audit_log WHERE action = 'admin.denied' AND actor_id = ? "
                                + "AND details->>'code' = 'insufficient_role'",
                        at.support.userId());
    }

    @Test
    void plainUsersAndAnonymousCallersAreRefusedBeforeAnything() {
        HttpResponse<Buffer> plain =
                ask(at.server, trader.token(), action("signin_link", trader.accountId(), new JsonObject()));
        assertThat(plain.statusCode()).isEqualTo(403);
        assertThat(problemCode(plain)).isEqualTo("not_owner");
        HttpResponse<Buffer> anonymous = TestServer.await(at.server
                .request(io.vertx.core.http.HttpMethod.POST, "/admin/api/actions")
                .sendJsonObject(action("signin_link", trader.accountId(), new JsonObject())));
        assertThat(anonymous.statusCode()).isEqualTo(401);
    }
}
