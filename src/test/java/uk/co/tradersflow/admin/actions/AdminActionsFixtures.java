package uk.co.tradersflow.admin.actions;

import static io.vertx.core.http.HttpMethod.POST;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;
import uk.co.tradersflow.support.FakeStripe;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.Sql;
import uk.co.tradersflow.support.StaffedServer;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/** The admin action tests' server (two owners, one support member, Stripe a local fake) and their requests. */
final class AdminActionsFixtures {
    static final String OWNER = "owner-" + UUID.randomUUID() + "@tradersflow.test";
    static final String OTHER_OWNER = "owner2-" + UUID.randomUUID() + "@tradersflow.test";
    static final String SUPPORT = "support-" + UUID.randomUUID() + "@tradersflow.test";

    private AdminActionsFixtures() {}

    static Map<String, String> settings(FakeStripe fake) {
        Map<String, String> s = new HashMap<>();
        s.put("TF_STRIPE_SECRET_KEY", "sk_test_fake_key_for_tests");
        s.put("TF_STRIPE_API_BASE", fake.base());
        s.put("TF_STRIPE_PRICE_ID", "price_test_monthly");
        s.put("TF_OWNER_EMAILS", OWNER + "," + OTHER_OWNER);
        s.put("TF_SUPPORT_EMAILS", SUPPORT);
        s.put("TF_SMTP_PORT", Integer.toString(TestServer.freePort()));
        return s;
    }

    /** The class's server, behind a fake Stripe started just before it and closed after it. */
    static ServerExtension withFakeStripe(Consumer<FakeStripe> started) {
        return ServerExtension.withFakeStripe(started, AdminActionsFixtures::settings);
    }

    /** A test class's own holder of its server and of this run's admin-action staff (the addresses above). */
    static StaffedServer staffed() {
        return new StaffedServer(OWNER, OTHER_OWNER, SUPPORT);
    }

    /** {@link #withFakeStripe(Consumer)}, the server and the staff kept in {@code at} once it is up. */
    static ServerExtension withFakeStripe(StaffedServer at, Consumer<FakeStripe> started) {
        return withFakeStripe(started).then(at::started);
    }

    /**
     * A staff member signed in afresh: the addresses are this run's, so a later test class finds
     * the user an earlier one made and opens another session for it.
     */
    static TestUser staff(TestUsers users, String email) {
        return StaffedServer.signedIn(users, email);
    }

    static HttpResponse<Buffer> ask(TestServer server, String token, JsonObject body) {
        return server.send(POST, "/admin/api/actions", token, body);
    }

    static JsonObject action(String action, UUID accountId, JsonObject params) {
        JsonObject body = new JsonObject().put("action", action).put("params", params);
        if (accountId != null) {
            body.put("accountId", accountId.toString());
        }
        return body;
    }

    /** Asks for an action that must be accepted; the 202 body. */
    static JsonObject proposed(TestServer server, String token, JsonObject body) {
        HttpResponse<Buffer> r = ask(server, token, body);
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(202);
        return r.bodyAsJsonObject();
    }

    static HttpResponse<Buffer> confirm(TestServer server, String token, String id, String confirmationToken) {
        return server.send(
                POST,
                "/admin/api/actions/" + id + "/confirm",
                token,
                new JsonObject().put("confirmationToken", confirmationToken));
    }

    /** Confirms the proposed action {@code p} (a 202 body) with the confirmation token it came with. */
    static HttpResponse<Buffer> confirmProposed(TestServer server, String token, JsonObject p) {
        return confirm(server, token, p.getString("id"), p.getString("confirmationToken"));
    }

    /** The audit actions recorded for the admin action {@code id}, oldest first. */
    static List<String> auditOf(String id) {
        return Sql.admin()
                .strings(
                        "SELECT action FROM audit_log WHERE target_type = 'admin_action' AND target_id = ? ORDER BY id",
                        id);
    }

    /** The audit actions recorded against {@code account}, oldest first. */
    static List<String> auditOfAccount(UUID account) {
        return Sql.admin().strings("SELECT action FROM audit_log WHERE account_id = ? ORDER BY id", account);
    }

    static String status(String id) {
        return Sql.admin().string("SELECT status FROM admin_actions WHERE id = ?::uuid", id);
    }

    static long actionsStored() {
        return Sql.admin().count("SELECT count(*) FROM admin_actions");
    }

    /** Gives the account a Stripe customer (and a subscription, when named), as checkout would have. */
    static void billing(UUID account, String customer, String subscription) {
        Sql.admin()
                .update(
                        "INSERT INTO billing_accounts (account_id, stripe_customer_id, subscription_id, subscription_status) "
                                + "VALUES (?, ?, ?, ?)",
                        account,
                        customer,
                        subscription,
                        subscription == null ? "none" : "trialing");
    }

    static String problemCode(HttpResponse<Buffer> r) {
        return r.bodyAsJsonObject().getString("code");
    }
}
