package uk.co.tradersflow.auth;

import static io.vertx.core.http.HttpMethod.GET;
import static io.vertx.core.http.HttpMethod.POST;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.email.EmailRenderer;
import uk.co.tradersflow.email.EmailTemplate;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.Sql;
import uk.co.tradersflow.support.TestServer;

/**
 * A staff address (TF_OWNER_EMAILS, TF_SUPPORT_EMAILS) opens the admin area only once its user
 * has set the password through an emailed reset link, and only to sessions opened after that:
 * whoever signs up with an owner's address first holds nothing, even once the owner clicks the
 * unsolicited verification mail.
 */
class StaffMailboxProofTest {
    static final String SQUATTER_PASSWORD = "the squatters own passphrase";
    static final String OWNERS_PASSWORD = "the owners real passphrase";
    static final String OWNER = "owner-" + UUID.randomUUID() + "@tradersflow.test";
    static final String SECOND_OWNER = "owner2-" + UUID.randomUUID() + "@tradersflow.test";
    static final String SUPPORT = "support-" + UUID.randomUUID() + "@tradersflow.test";
    static final String ADMIN_READ = "/admin/api/email/health";

    @RegisterExtension
    static final ServerExtension lifecycle = ServerExtension.with(Map.of(
                    "TF_SMTP_PORT",
                    Integer.toString(TestServer.freePort()),
                    "TF_OWNER_EMAILS",
                    OWNER + "," + SECOND_OWNER,
                    "TF_SUPPORT_EMAILS",
                    SUPPORT,
                    "TF_LOGIN_IP_LIMIT_PER_MINUTE",
                    "1000"))
            .then(s -> SignInFlowTest.server = s);

    private static String tokenOf(String email, String password) {
        HttpResponse<Buffer> r = SignInFlowTest.login(email, password);
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
        return r.bodyAsJsonObject().getString("accessToken");
    }

    private static void signUpAndVerify(String email, String password) throws Exception {
        assertThat(SignInFlowTest.post(
                                "/api/v1/auth/signup",
                                new JsonObject()
                                        .put("email", email)
                                        .put("password", password)
                                        .put("businessName", "Not TradersFlow"))
                        .statusCode())
                .isEqualTo(201);
        assertThat(SignInFlowTest.post(
                                "/api/v1/auth/verify-email",
                                new JsonObject().put("token", SignInFlowTest.mailedToken(email, "verify_email")))
                        .statusCode())
                .isEqualTo(204);
    }

    private static void resetPassword(String email, String password) throws Exception {
        long before = SignInFlowTest.queued(email, "password_reset");
        assertThat(SignInFlowTest.post("/api/v1/auth/password-reset/request", new JsonObject().put("email", email))
                        .statusCode())
                .isEqualTo(202);
        SignInFlowTest.awaitQueued(email, "password_reset", before + 1);
        HttpResponse<Buffer> confirmed = SignInFlowTest.post(
                "/api/v1/auth/password-reset/confirm",
                new JsonObject()
                        .put("token", SignInFlowTest.mailedToken(email, "password_reset"))
                        .put("newPassword", password));
        assertThat(confirmed.statusCode()).as(confirmed.bodyAsString()).isEqualTo(204);
    }

    private static HttpResponse<Buffer> admin(String accessToken) {
        return SignInFlowTest.server().send(GET, ADMIN_READ, accessToken);
    }

    private static JsonObject newestModel(String email, String template) throws Exception {
        List<String> models = Sql.admin()
                .strings(
                        "SELECT model FROM email_outbox WHERE recipient = ? AND template = ? "
                                + "ORDER BY created_at DESC LIMIT 1",
                        email,
                        template);
        assertThat(models).isNotEmpty();
        return new JsonObject(models.get(0));
    }

    private static String rendered(EmailTemplate template, JsonObject model) {
        EmailRenderer.Rendered r = new EmailRenderer(
                        SignInFlowTest.server().config.links().publicUrl().toString())
                .render(template, model);
        return r.text() + r.html();
    }

    @Test
    void aSquatterOfAnOwnerAddressIsRefusedUntilTheOwnerResetsAndItsOldSessionStaysOutAfter() throws Exception {
        signUpAndVerify(OWNER, SQUATTER_PASSWORD); // the squatter signs up; the owner clicks the unsolicited mail
        String squatters = tokenOf(OWNER, SQUATTER_PASSWORD);
        HttpResponse<Buffer> refused = admin(squatters);
        assertThat(refused.statusCode()).as(refused.bodyAsString()).isEqualTo(403);
        assertThat(refused.bodyAsJsonObject().getString("code")).isEqualTo("not_owner");
        assertThat(SignInFlowTest.server().send(GET, "/api/v1/me", squatters).statusCode())
                .as("an ordinary account it is")
                .isEqualTo(200);

        resetPassword(OWNER, OWNERS_PASSWORD);
        assertThat(SignInFlowTest.awaitStatus(squatters, 401))
                .as("the reset ended the squatter's session")
                .isLessThan(1_000);
        // Even a session the reset's revocation missed (a sign-in that raced it) stays outside.
        Sql.admin()
                .update(
                        "UPDATE sessions SET revoked_at = NULL, revoked_reason = NULL WHERE user_id = "
                                + "(SELECT id FROM users WHERE email = ?)",
                        OWNER);
        assertThat(SignInFlowTest.awaitStatus(squatters, 200)).isLessThan(3_000);
        HttpResponse<Buffer> stillOut = admin(squatters);
        assertThat(stillOut.statusCode()).as("a token from before the reset").isEqualTo(403);
        assertThat(stillOut.bodyAsJsonObject().getString("code")).isEqualTo("not_owner");

        assertThat(SignInFlowTest.login(OWNER, SQUATTER_PASSWORD).statusCode())
                .as("the squatter's password is gone")
                .isEqualTo(401);
        HttpResponse<Buffer> allowed = admin(tokenOf(OWNER, OWNERS_PASSWORD));
        assertThat(allowed.statusCode()).as(allowed.bodyAsString()).isEqualTo(200);
    }

    @Test
    void verificationAndResetMailsToStaffAddressesExplainTheRuleAndOthersDoNot() throws Exception {
        String email = SignInFlowTest.email();
        signUpAndVerify(SECOND_OWNER, SQUATTER_PASSWORD);
        signUpAndVerify(email, SQUATTER_PASSWORD);
        JsonObject staffVerify = newestModel(SECOND_OWNER, "verify_email");
        assertThat(staffVerify.getBoolean("staff")).isTrue();
        assertThat(rendered(EmailTemplate.VERIFY_EMAIL, staffVerify))
                .contains("staff list")
                .contains("Confirming it does not open the admin area");
        assertThat(newestModel(email, "verify_email").fieldNames()).containsExactly("link");
        assertThat(rendered(EmailTemplate.VERIFY_EMAIL, newestModel(email, "verify_email")))
                .doesNotContain("staff list");

        resetPassword(SECOND_OWNER, OWNERS_PASSWORD);
        resetPassword(email, OWNERS_PASSWORD);
        JsonObject staffReset = newestModel(SECOND_OWNER, "password_reset");
        assertThat(staffReset.getBoolean("staff")).isTrue();
        assertThat(rendered(EmailTemplate.PASSWORD_RESET, staffReset))
                .contains("staff list")
                .contains("opens")
                .contains("Sessions signed in before the reset");
        assertThat(rendered(EmailTemplate.PASSWORD_RESET, newestModel(email, "password_reset")))
                .doesNotContain("staff list");
    }

    @Test
    void supportStaffReadTheAdminAreaOnceTheirMailboxIsProvenButCannotAct() throws Exception {
        signUpAndVerify(SUPPORT, SQUATTER_PASSWORD);
        assertThat(admin(tokenOf(SUPPORT, SQUATTER_PASSWORD)).statusCode())
                .as("before the reset")
                .isEqualTo(403);
        resetPassword(SUPPORT, OWNERS_PASSWORD);
        String token = tokenOf(SUPPORT, OWNERS_PASSWORD);
        assertThat(admin(token).statusCode()).isEqualTo(200);
        HttpResponse<Buffer> act = SignInFlowTest.server()
                .send(POST, "/admin/api/webhooks/evt_support_try/replay", token, new JsonObject());
        assertThat(act.statusCode()).as(act.bodyAsString()).isEqualTo(403);
        assertThat(act.bodyAsJsonObject().getString("code")).isEqualTo("insufficient_role");
        assertThat(deniedEntries(SUPPORT))
                .containsExactly(
                        "not_owner GET " + ADMIN_READ,
                        "insufficient_role POST /admin/api/webhooks/evt_support_try/replay");
    }

    /** The contract: every refusal of a signed-in user is an audit entry ({@code admin.denied}). */
    @Test
    void everyRefusalOfASignedInUserIsAnAuditEntry() throws Exception {
        String email = SignInFlowTest.email();
        signUpAndVerify(email, SQUATTER_PASSWORD);
        HttpResponse<Buffer> refused = admin(tokenOf(email, SQUATTER_PASSWORD));
        assertThat(refused.statusCode()).isEqualTo(403);
        assertThat(deniedEntries(email)).containsExactly("not_owner GET " + ADMIN_READ);
        assertThat(TestServer.await(
                                SignInFlowTest.server().request(GET, ADMIN_READ).send())
                        .statusCode())
                .as("nobody signed in: 401, nobody to record")
                .isEqualTo(401);
    }

    /** The user's {@code admin.denied} audit entries, oldest first, as "code method path". */
    private static java.util.List<String> deniedEntries(String email) throws Exception {
        java.util.List<String> entries = new ArrayList<>();
        try (Connection c = SignInFlowTest.server().env.admin();
                PreparedStatement ps = c.prepareStatement(
                        "SELECT details->>'code', details->>'method', details->>'path' FROM audit_log "
                                + "WHERE action = 'admin.denied' AND actor_id = (SELECT id FROM users WHERE email = ?) ORDER BY id")) {
            ps.setString(1, email);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    entries.add(rs.getString(1) + " " + rs.getString(2) + " " + rs.getString(3));
                }
            }
        }
        return entries;
    }

    /** A reset proved the mailbox the user had then; moving to a staff address needs a reset there. */
    @Test
    void movingToAStaffAddressNeedsAResetAtTheNewAddress() throws Exception {
        String before = SignInFlowTest.email();
        String staff = "owner-moved-" + UUID.randomUUID() + "@tradersflow.test";
        try (TestServer other = TestServer.start(
                Map.of("TF_SMTP_PORT", Integer.toString(TestServer.freePort()), "TF_OWNER_EMAILS", staff))) {
            TestServer mine = SignInFlowTest.server;
            SignInFlowTest.server = other;
            try {
                signUpAndVerify(before, SQUATTER_PASSWORD);
                resetPassword(before, OWNERS_PASSWORD);
                String token = tokenOf(before, OWNERS_PASSWORD);
                assertThat(SignInFlowTest.changeEmail(token, OWNERS_PASSWORD, staff)
                                .statusCode())
                        .isEqualTo(202);
                assertThat(SignInFlowTest.post(
                                        "/api/v1/auth/email/confirm",
                                        new JsonObject()
                                                .put(
                                                        "token",
                                                        SignInFlowTest.mailedToken(staff, "email_change_confirm")))
                                .statusCode())
                        .isEqualTo(204);
                assertThat(admin(tokenOf(staff, OWNERS_PASSWORD)).statusCode())
                        .as("moved in, not yet proven")
                        .isEqualTo(403);
                resetPassword(staff, "the new staff passphrase");
                assertThat(admin(tokenOf(staff, "the new staff passphrase")).statusCode())
                        .isEqualTo(200);
            } finally {
                SignInFlowTest.server = mine;
            }
        }
    }

    /**
     * A sign-in that checked the old password while a reset was committing opens no session: it
     * would be a session from before the reset that the reset's revocation could not see.
     */
    @Test
    void aSignInCheckedAgainstAPasswordReplacedMeanwhileOpensNoSession() throws Exception {
        String email = SignInFlowTest.email();
        signUpAndVerify(email, SQUATTER_PASSWORD);
        Future<HttpResponse<Buffer>> racing;
        try (Connection c = SignInFlowTest.server().env.admin()) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                // What a reset does to the row, held uncommitted while the sign-in checks the old password.
                s.executeUpdate("UPDATE users SET password_epoch = password_epoch + 1 WHERE email = '" + email + "'");
                racing = SignInFlowTest.server()
                        .request(POST, "/api/v1/auth/login")
                        .sendJsonObject(new JsonObject().put("email", email).put("password", SQUATTER_PASSWORD));
                long deadline = System.nanoTime() + 10_000_000_000L;
                while (!waitingOnALock() && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
                assertThat(waitingOnALock())
                        .as("the sign-in waits for the reset's row")
                        .isTrue();
            }
            c.commit();
        }
        HttpResponse<Buffer> r = TestServer.await(racing);
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(401);
        assertThat(Sql.admin()
                        .count(
                                "SELECT count(*) FROM sessions WHERE user_id = (SELECT id FROM users WHERE email = ?)",
                                email))
                .as("no session was opened")
                .isZero();
    }

    /**
     * Two sign-ins of one user that both upgrade its password hash (new Argon2 parameters), at the
     * same time: each checks the row and then updates it. Were the check a share lock, each would
     * hold one while waiting to update past the other's, and PostgreSQL would abort one of them
     * (a 409 for the right password). Held here until both sign-ins are at the row.
     */
    @Test
    void twoSignInsThatBothUpgradeThePasswordHashBothSucceed() throws Exception {
        String email = SignInFlowTest.email();
        signUpAndVerify(email, SQUATTER_PASSWORD);
        SignInFlowTest.storeHashWithOlderParameters(email, SQUATTER_PASSWORD);
        List<Future<HttpResponse<Buffer>>> racing = new ArrayList<>();
        try (Connection c = SignInFlowTest.server().env.admin()) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.executeQuery("SELECT 1 FROM users WHERE email = '" + email + "' FOR SHARE")
                        .close();
                for (int i = 0; i < 2; i++) {
                    racing.add(SignInFlowTest.server()
                            .request(POST, "/api/v1/auth/login")
                            .sendJsonObject(new JsonObject().put("email", email).put("password", SQUATTER_PASSWORD)));
                }
                long deadline = System.nanoTime() + 20_000_000_000L;
                while (appConnectionsWaitingOnALock() < 2 && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
                assertThat(appConnectionsWaitingOnALock())
                        .as("both sign-ins wait at the user's row")
                        .isEqualTo(2);
            }
            c.commit();
        }
        for (Future<HttpResponse<Buffer>> f : racing) {
            HttpResponse<Buffer> r = TestServer.await(f);
            assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
        }
    }

    private static long appConnectionsWaitingOnALock() throws Exception {
        try (Connection c = SignInFlowTest.server().env.admin();
                Statement s = c.createStatement();
                ResultSet rs =
                        s.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                + "AND usename = 'tf_app' AND wait_event_type = 'Lock'")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static boolean waitingOnALock() throws Exception {
        return Sql.admin()
                        .count(
                                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                        + "AND usename = 'tf_app' AND wait_event_type = 'Lock' AND query LIKE '%FOR NO KEY UPDATE%'")
                > 0;
    }
}
