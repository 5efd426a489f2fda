package uk.co.tradersflow.admin.actions;

import static org.assertj.core.api.Assertions.assertThat;
import static uk.co.tradersflow.admin.actions.AdminActionsFixtures.action;
import static uk.co.tradersflow.admin.actions.AdminActionsFixtures.auditOf;
import static uk.co.tradersflow.admin.actions.AdminActionsFixtures.confirm;
import static uk.co.tradersflow.admin.actions.AdminActionsFixtures.problemCode;
import static uk.co.tradersflow.admin.actions.AdminActionsFixtures.proposed;
import static uk.co.tradersflow.admin.actions.AdminActionsFixtures.status;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.Sql;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/**
 * {@code POST /admin/api/actions/{id}/confirm}: the right owner with the right token performs the
 * action once; a wrong token, someone else's action, a spent or an expired one is refused with
 * nothing done, and every outcome is on the record with the staff member as actor.
 */
class AdminActionConfirmTest {
    static TestServer server;
    static TestUsers users;
    static TestUser owner;
    static TestUser otherOwner;
    static TestUser support;

    @RegisterExtension
    static final ServerExtension lifecycle = AdminActionsFixtures.withFakeStripe(f -> {})
            .then(s -> {
                server = s;
                users = new TestUsers(s);
                owner = AdminActionsFixtures.staff(users, AdminActionsFixtures.OWNER);
                otherOwner = AdminActionsFixtures.staff(users, AdminActionsFixtures.OTHER_OWNER);
                support = AdminActionsFixtures.staff(users, AdminActionsFixtures.SUPPORT);
            });

    private static JsonObject suspendProposed(TestUser target) {
        return proposed(
                server, owner.token(), action("suspend", target.accountId(), new JsonObject().put("reason", "fraud")));
    }

    private static String accountStatus(TestUser u) {
        return Sql.admin().string("SELECT status FROM accounts WHERE id = ?", u.accountId());
    }

    private static void assertRefused(HttpResponse<Buffer> r, int status, String code) {
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(status);
        assertThat(problemCode(r)).isEqualTo(code);
    }

    @Test
    void theRequestersConfirmationPerformsTheActionAndRecordsEachStep() {
        TestUser trader = users.create();
        JsonObject p = suspendProposed(trader);
        HttpResponse<Buffer> done = confirm(server, owner.token(), p.getString("id"), p.getString("confirmationToken"));
        assertThat(done.statusCode()).as(done.bodyAsString()).isEqualTo(200);
        assertThat(done.bodyAsJsonObject().getJsonObject("result"))
                .isEqualTo(new JsonObject()
                        .put("accountId", trader.accountId().toString())
                        .put("status", "suspended"));
        assertThat(accountStatus(trader)).isEqualTo("suspended");
        assertThat(status(p.getString("id"))).isEqualTo("done");
        assertThat(auditOf(p.getString("id")))
                .containsExactly("admin.action_requested", "admin.action_confirmed", "admin.suspend");
        assertThat(Sql.admin()
                        .strings(
                                "SELECT DISTINCT actor_type || ' ' || actor_id FROM audit_log WHERE account_id = ?",
                                trader.accountId()))
                .as("every entry names the owner as actor")
                .containsExactly("owner " + owner.userId());
        assertThat(AdminActionsFixtures.auditOfAccount(trader.accountId())).contains("account_suspended");
    }

    @Test
    void aSpentTokenIsRefusedAndNothingHappensTwice() {
        TestUser trader = users.create();
        JsonObject p = suspendProposed(trader);
        assertThat(confirm(server, owner.token(), p.getString("id"), p.getString("confirmationToken"))
                        .statusCode())
                .isEqualTo(200);
        assertRefused(
                confirm(server, owner.token(), p.getString("id"), p.getString("confirmationToken")),
                409,
                "action_already_confirmed");
        assertThat(Sql.admin()
                        .count(
                                "SELECT count(*) FROM audit_log WHERE account_id = ? AND action = 'account_suspended'",
                                trader.accountId()))
                .isEqualTo(1);
        assertThat(auditOf(p.getString("id")))
                .containsExactly(
                        "admin.action_requested",
                        "admin.action_confirmed",
                        "admin.suspend",
                        "admin.confirmation_refused");
    }

    @Test
    void aWrongTokenIsRefusedAndLeavesTheActionPending() {
        TestUser trader = users.create();
        JsonObject p = suspendProposed(trader);
        assertRefused(
                confirm(server, owner.token(), p.getString("id"), "tfc_" + "A".repeat(43)),
                403,
                "confirmation_invalid");
        JsonObject other = suspendProposed(trader);
        assertRefused(
                confirm(server, owner.token(), p.getString("id"), other.getString("confirmationToken")),
                403,
                "confirmation_invalid");
        assertThat(status(p.getString("id"))).isEqualTo("pending");
        assertThat(accountStatus(trader)).isEqualTo("active");
        assertThat(Sql.admin()
                        .string(
                                "SELECT details->>'code' FROM audit_log WHERE target_id = ? AND action = 'admin.confirmation_refused' LIMIT 1",
                                p.getString("id")))
                .isEqualTo("confirmation_invalid");
        // The right token still works afterwards: a guess does not burn the action.
        assertThat(confirm(server, owner.token(), p.getString("id"), p.getString("confirmationToken"))
                        .statusCode())
                .isEqualTo(200);
    }

    @Test
    void anotherOwnersConfirmationIsRefusedEvenWithTheRightToken() {
        TestUser trader = users.create();
        JsonObject p = suspendProposed(trader);
        assertRefused(
                confirm(server, otherOwner.token(), p.getString("id"), p.getString("confirmationToken")),
                403,
                "action_not_yours");
        assertThat(status(p.getString("id"))).isEqualTo("pending");
        assertThat(accountStatus(trader)).isEqualTo("active");
        assertThat(Sql.admin()
                        .string(
                                "SELECT actor_id::text FROM audit_log WHERE target_id = ? AND action = 'admin.confirmation_refused'",
                                p.getString("id")))
                .isEqualTo(otherOwner.userId().toString());
    }

    @Test
    void anExpiredActionIsRefusedWithNothingDoneAndItsExpiryRecorded() {
        TestUser trader = users.create();
        JsonObject p = suspendProposed(trader);
        Sql.admin()
                .update(
                        "UPDATE admin_actions SET expires_at = now() - interval '1 second' WHERE id = ?::uuid",
                        p.getString("id"));
        assertRefused(
                confirm(server, owner.token(), p.getString("id"), p.getString("confirmationToken")),
                410,
                "action_expired");
        assertThat(status(p.getString("id"))).isEqualTo("expired");
        assertThat(accountStatus(trader)).isEqualTo("active");
        assertThat(auditOf(p.getString("id")))
                .containsExactly("admin.action_requested", "admin.action_expired", "admin.confirmation_refused");
    }

    @Test
    void anActionLeftUnconfirmedIsSweptToExpiredAndRecorded() throws Exception {
        TestUser trader = users.create();
        JsonObject p = suspendProposed(trader);
        Sql.admin()
                .update(
                        "UPDATE admin_actions SET expires_at = now() - interval '1 second' WHERE id = ?::uuid",
                        p.getString("id"));
        long deadline = System.nanoTime() + 15_000_000_000L;
        while (!"expired".equals(status(p.getString("id"))) && System.nanoTime() < deadline) {
            Thread.sleep(200);
        }
        assertThat(status(p.getString("id"))).isEqualTo("expired");
        assertThat(Sql.admin()
                        .string(
                                "SELECT actor_type || ' ' || actor_id || ' ' || account_id FROM audit_log "
                                        + "WHERE target_id = ? AND action = 'admin.action_expired'",
                                p.getString("id")))
                .isEqualTo("owner " + owner.userId() + " " + trader.accountId());
        assertRefused(
                confirm(server, owner.token(), p.getString("id"), p.getString("confirmationToken")),
                410,
                "action_expired");
        assertThat(auditOf(p.getString("id")))
                .as("the expiry is recorded once")
                .containsExactly("admin.action_requested", "admin.action_expired", "admin.confirmation_refused");
    }

    /** An instance killed while performing leaves the row performing: the sweep fails it, outcome unknown. */
    @Test
    void anActionLeftPerformingByAStoppedInstanceIsFailedAsInterruptedAndRecorded() throws Exception {
        TestUser trader = users.create();
        JsonObject p = suspendProposed(trader);
        Sql.admin()
                .update(
                        "UPDATE admin_actions SET status = 'performing', updated_at = now() - interval '11 minutes' "
                                + "WHERE id = ?::uuid",
                        p.getString("id"));
        long deadline = System.nanoTime() + 15_000_000_000L;
        while (!"failed".equals(status(p.getString("id"))) && System.nanoTime() < deadline) {
            Thread.sleep(200);
        }
        assertThat(status(p.getString("id"))).isEqualTo("failed");
        assertThat(Sql.admin()
                        .string("SELECT result->>'code' FROM admin_actions WHERE id = ?::uuid", p.getString("id")))
                .isEqualTo("interrupted");
        assertThat(auditOf(p.getString("id"))).containsExactly("admin.action_requested", "admin.action_failed");
        assertRefused(
                confirm(server, owner.token(), p.getString("id"), p.getString("confirmationToken")),
                409,
                "action_already_confirmed");
        assertThat(accountStatus(trader)).isEqualTo("active");
    }

    /** One that is still performing (a Stripe call in flight) is left alone by the same sweep. */
    @Test
    void anActionPerformingForLessThanTheStallTimeIsLeftAlone() throws Exception {
        JsonObject p = suspendProposed(users.create());
        Sql.admin()
                .update(
                        "UPDATE admin_actions SET status = 'performing', updated_at = now() - interval '1 minute' "
                                + "WHERE id = ?::uuid",
                        p.getString("id"));
        Thread.sleep(6_000); // more than one sweep (every 5 s)
        assertThat(status(p.getString("id"))).isEqualTo("performing");
    }

    @Test
    void anUnknownActionIs404AndAMissingTokenIs422() {
        assertRefused(confirm(server, owner.token(), UUID.randomUUID().toString(), "tfc_whatever"), 404, "not_found");
        assertRefused(confirm(server, owner.token(), "not-a-uuid", "tfc_whatever"), 404, "not_found");
        JsonObject p = suspendProposed(users.create());
        HttpResponse<Buffer> missing = server.send(
                io.vertx.core.http.HttpMethod.POST,
                "/admin/api/actions/" + p.getString("id") + "/confirm",
                owner.token(),
                new JsonObject());
        assertRefused(missing, 422, "validation_failed");
        assertThat(status(p.getString("id"))).isEqualTo("pending");
        assertThat(auditOf(p.getString("id"))).containsExactly("admin.action_requested", "admin.confirmation_refused");
    }

    @Test
    void supportMayNotConfirmAnOwnersActionNorAnUnknownOne() {
        TestUser trader = users.create();
        JsonObject p = suspendProposed(trader);
        assertRefused(
                confirm(server, support.token(), p.getString("id"), p.getString("confirmationToken")),
                403,
                "insufficient_role");
        assertRefused(
                confirm(server, support.token(), UUID.randomUUID().toString(), "tfc_whatever"),
                403,
                "insufficient_role");
        assertThat(status(p.getString("id"))).isEqualTo("pending");
        assertThat(accountStatus(trader)).isEqualTo("active");
    }

    /** A refusal by the sign-in link service itself fails the action, on the record. */
    @Test
    void aSignInLinkTheServiceRefusesIsRecordedAsFailed() {
        TestUser trader = users.create();
        JsonObject p = proposed(server, support.token(), action("signin_link", trader.accountId(), new JsonObject()));
        Sql.admin().update("UPDATE accounts SET status = 'suspended' WHERE id = ?", trader.accountId());
        assertRefused(
                confirm(server, support.token(), p.getString("id"), p.getString("confirmationToken")),
                403,
                "account_suspended");
        assertThat(status(p.getString("id"))).isEqualTo("failed");
        assertThat(auditOf(p.getString("id")))
                .containsExactly("admin.action_requested", "admin.action_confirmed", "admin.action_failed");
        JsonObject export =
                proposed(server, owner.token(), action("export_report", null, new JsonObject().put("report", "audit")));
        assertThat(export.getValue("accountId")).isNull();
    }
}
