package uk.co.tradersflow.admin.signin;

import static io.vertx.core.http.HttpMethod.GET;
import static io.vertx.core.http.HttpMethod.HEAD;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.net.URI;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.platform.security.Principal;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.Sql;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/**
 * Support sign-in links, through the service the {@code signin_link} admin action calls and the
 * open route that spends them: one use, 15 minutes, a session impersonated on the record, never
 * into the admin area, never into a staff member's account or a suspended one.
 */
class SignInLinkTest {
    static final String OWNER = "owner-" + UUID.randomUUID() + "@tradersflow.test";
    static final String SECOND_OWNER = "owner2-" + UUID.randomUUID() + "@tradersflow.test";
    static final String SUPPORT = "support-" + UUID.randomUUID() + "@tradersflow.test";
    static TestServer server;
    static TestUsers users;
    static SignInLinkService links;
    static TestUser owner;
    static TestUser support;

    @RegisterExtension
    static final ServerExtension lifecycle = ServerExtension.with(Map.of(
                    "TF_OWNER_EMAILS",
                    OWNER + "," + SECOND_OWNER,
                    "TF_SUPPORT_EMAILS",
                    SUPPORT,
                    // A spent refresh token presented again is reuse at once (see the reuse test).
                    "TF_REFRESH_REUSE_GRACE_SECONDS",
                    "0"))
            .then(s -> {
                server = s;
                users = new TestUsers(s);
                owner = users.create(OWNER, true);
                support = users.create(SUPPORT, true);
                links = new SignInLinkService(
                        s.config.auth(),
                        s.config.links().publicUrl().toString(),
                        s.main.db(),
                        s.main.auth().sessions(),
                        new AuditLog(s.vertx.eventBus()));
            });

    private static Principal principal(TestUser u) {
        return new Principal(u.userId(), u.accountId(), u.sessionId(), u.email(), true, Optional.empty());
    }

    private static JsonObject issue(TestUser staff, UUID accountId) {
        return TestServer.await(links.issue(UUID.randomUUID(), accountId, principal(staff)));
    }

    /** The path and query of an issued URL, checked to be on this server's public base. */
    private static String pathOf(JsonObject issued) {
        URI url = URI.create(issued.getString("url"));
        assertThat(issued.getString("url"))
                .startsWith(server.config.links().publicUrl() + "/api/v1/auth/signin-link?token=tfl_");
        return url.getRawPath() + "?" + url.getRawQuery();
    }

    private static HttpResponse<Buffer> open(String pathAndQuery) {
        return TestServer.await(server.request(GET, pathAndQuery).send());
    }

    /** A customer's account whose first user signed up first, and a second user added later. */
    private static TestUser customerWithTwoUsers() {
        TestUser first = users.create();
        UUID second = UUID.randomUUID();
        Sql.admin()
                .update(
                        "INSERT INTO users (id, account_id, email, email_verified_at, created_at) "
                                + "VALUES (?, ?, ?, now(), now() + interval '1 minute')",
                        second,
                        first.accountId(),
                        "second-" + second + "@example.test");
        return first;
    }

    private static JsonObject problem(HttpResponse<Buffer> r, int status) {
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(status);
        return r.bodyAsJsonObject();
    }

    @Test
    void anOwnersLinkSignsInAsTheAccountsFirstUserOnceAndEveryLaterUseIs401() {
        TestUser customer = customerWithTwoUsers();
        JsonObject issued = issue(owner, customer.accountId());
        Instant expiresAt = Instant.parse(issued.getString("expiresAt"));
        assertThat(expiresAt)
                .isBetween(Instant.now().plusSeconds(14 * 60), Instant.now().plusSeconds(15 * 60 + 5));
        String link = pathOf(issued);

        HttpResponse<Buffer> first = open(link);
        assertThat(first.statusCode()).as(first.bodyAsString()).isEqualTo(200);
        JsonObject tokens = first.bodyAsJsonObject();
        assertThat(tokens.fieldNames()).contains("accessToken", "refreshToken", "tokenType", "expiresIn");
        assertThat(tokens.getString("tokenType")).isEqualTo("Bearer");
        assertThat(tokens.containsKey("deviceToken")).isFalse();

        HttpResponse<Buffer> me = server.send(GET, "/api/v1/me", tokens.getString("accessToken"));
        assertThat(me.statusCode()).isEqualTo(200);
        assertThat(me.bodyAsJsonObject().getJsonObject("user").getString("id"))
                .isEqualTo(customer.userId().toString());

        assertThat(problem(open(link), 401).getString("code")).isEqualTo("invalid_token");
        assertThat(problem(open(link), 401).getString("code")).isEqualTo("invalid_token");
        // Stored as the token's SHA-256 only.
        String token = link.substring(link.indexOf("token=") + 6);
        assertThat(Sql.admin()
                        .count(
                                "SELECT count(*) FROM signin_links WHERE account_id = ? AND token_hash = sha256(convert_to(?, 'UTF8'))",
                                customer.accountId(),
                                token))
                .isEqualTo(1);
    }

    @Test
    void theSessionCarriesTheStaffMemberAsImpersonatorAndEndsWithinAnHour() {
        TestUser customer = users.create();
        String access = open(pathOf(issue(support, customer.accountId())))
                .bodyAsJsonObject()
                .getString("accessToken");
        assertThat(Sql.admin()
                        .string(
                                "SELECT impersonator_id FROM sessions WHERE account_id = ? AND impersonator_id IS NOT NULL",
                                customer.accountId()))
                .isEqualTo(support.userId().toString());
        assertThat(Sql.admin()
                        .count(
                                "SELECT count(*) FROM sessions WHERE account_id = ? AND impersonator_id IS NOT NULL "
                                        + "AND expires_at <= now() + interval '1 hour'",
                                customer.accountId()))
                .isEqualTo(1);
        assertThat(server.send(GET, "/api/v1/me", access).statusCode()).isEqualTo(200);
    }

    @Test
    void aWriteInTheImpersonatedSessionIsAuditedWithImpersonatedBy() {
        TestUser customer = users.create();
        String access = open(pathOf(issue(owner, customer.accountId())))
                .bodyAsJsonObject()
                .getString("accessToken");
        String customerId = server.createCustomer(access);
        assertThat(Sql.admin()
                        .string(
                                "SELECT impersonator_id FROM audit_log WHERE account_id = ? AND action = 'customer.created' "
                                        + "AND target_id = ?",
                                customer.accountId(),
                                customerId))
                .isEqualTo(owner.userId().toString());
        // The user's own session, beside it, is not impersonated.
        server.createCustomer(customer.token());
        assertThat(Sql.admin()
                        .count(
                                "SELECT count(*) FROM audit_log WHERE account_id = ? AND action = 'customer.created' "
                                        + "AND impersonator_id IS NULL",
                                customer.accountId()))
                .isEqualTo(1);
    }

    @Test
    void aReusedRefreshTokenOfTheSupportSessionIsAuditedWithImpersonatedBy() {
        TestUser customer = users.create();
        String refresh = open(pathOf(issue(owner, customer.accountId())))
                .bodyAsJsonObject()
                .getString("refreshToken");
        JsonObject body = new JsonObject().put("refreshToken", refresh);
        HttpResponse<Buffer> renewed =
                TestServer.await(server.request(io.vertx.core.http.HttpMethod.POST, "/api/v1/auth/refresh")
                        .sendJsonObject(body));
        assertThat(renewed.statusCode()).as(renewed.bodyAsString()).isEqualTo(200);
        HttpResponse<Buffer> reused =
                TestServer.await(server.request(io.vertx.core.http.HttpMethod.POST, "/api/v1/auth/refresh")
                        .sendJsonObject(body));
        assertThat(problem(reused, 401).getString("code")).isEqualTo("invalid_token");
        assertThat(Sql.admin()
                        .string(
                                "SELECT impersonator_id FROM audit_log WHERE account_id = ? AND action = 'auth.refresh_reuse'",
                                customer.accountId()))
                .isEqualTo(owner.userId().toString());
    }

    @Test
    void theImpersonatedSessionNeverOpensTheAdminAreaAndTheRefusalIsOnTheRecord() {
        TestUser customer = users.create();
        String access = open(pathOf(issue(owner, customer.accountId())))
                .bodyAsJsonObject()
                .getString("accessToken");
        HttpResponse<Buffer> refused = server.send(GET, "/admin/api/email/health", access);
        assertThat(problem(refused, 403).getString("code")).isEqualTo("not_owner");
        assertThat(Sql.admin()
                        .string(
                                "SELECT impersonator_id FROM audit_log WHERE account_id = ? AND action = 'admin.denied'",
                                customer.accountId()))
                .isEqualTo(owner.userId().toString());
    }

    @Test
    void theUsersActivityShowsThatSupportSignedInWithWhoAndWhen() {
        TestUser customer = users.create();
        open(pathOf(issue(support, customer.accountId())));
        HttpResponse<Buffer> activity = server.send(GET, "/api/v1/me/activity", customer.token());
        assertThat(activity.statusCode()).isEqualTo(200);
        JsonArray items = activity.bodyAsJsonObject().getJsonArray("items");
        JsonObject signedIn = items.stream()
                .map(JsonObject.class::cast)
                .filter(e -> e.getString("action").equals("support.signed_in"))
                .findFirst()
                .orElseThrow();
        assertThat(signedIn.getString("occurredAt")).isNotBlank();
        assertThat(signedIn.getJsonObject("details").getString("staffId"))
                .isEqualTo(support.userId().toString());
        assertThat(signedIn.getJsonObject("details").getString("staffRole")).isEqualTo("support");
        assertThat(Sql.admin()
                        .string(
                                "SELECT impersonator_id FROM audit_log WHERE account_id = ? AND action = 'support.signed_in'",
                                customer.accountId()))
                .isEqualTo(support.userId().toString());
    }

    @Test
    void issuingIsAuditedWithTheStaffMemberAsActor() {
        TestUser customer = users.create();
        UUID action = UUID.randomUUID();
        TestServer.await(links.issue(action, customer.accountId(), principal(owner)));
        assertThat(Sql.admin()
                        .string(
                                "SELECT actor_type || ' ' || actor_id || ' ' || (details->>'actionId') FROM audit_log "
                                        + "WHERE account_id = ? AND action = 'admin.signin_link_issued'",
                                customer.accountId()))
                .isEqualTo("owner " + owner.userId() + " " + action);
    }

    @Test
    void anExpiredLinkIs401() {
        TestUser customer = users.create();
        String link = pathOf(issue(owner, customer.accountId()));
        Sql.admin()
                .update(
                        "UPDATE signin_links SET expires_at = now() - interval '1 second' WHERE account_id = ?",
                        customer.accountId());
        assertThat(problem(open(link), 401).getString("code")).isEqualTo("invalid_token");
        assertThat(Sql.admin()
                        .count(
                                "SELECT count(*) FROM sessions WHERE account_id = ? AND impersonator_id IS NOT NULL",
                                customer.accountId()))
                .isZero();
    }

    @Test
    void unknownMissingAndMalformedTokensAre401() {
        assertThat(problem(open("/api/v1/auth/signin-link?token=tfl_" + "A".repeat(43)), 401)
                        .getString("code"))
                .isEqualTo("invalid_token");
        assertThat(problem(open("/api/v1/auth/signin-link"), 401).getString("code"))
                .isEqualTo("invalid_token");
        assertThat(problem(open("/api/v1/auth/signin-link?token=" + "x".repeat(500)), 401)
                        .getString("code"))
                .isEqualTo("invalid_token");
    }

    @Test
    void headAnswersWithoutSpendingTheLink() {
        TestUser customer = users.create();
        String link = pathOf(issue(owner, customer.accountId()));
        assertThat(TestServer.await(server.request(HEAD, link).send()).statusCode())
                .isEqualTo(200);
        assertThat(open(link).statusCode()).isEqualTo(200);
        assertThat(TestServer.await(server.request(HEAD, link).send()).statusCode())
                .isEqualTo(401);
    }

    @Test
    void anAccountWithAStaffAddressAmongItsUsersIsRefusedAndNothingIsIssued() {
        assertThatThrownBy(() -> issue(support, owner.accountId()))
                .isInstanceOfSatisfying(
                        AppError.class, e -> assertThat(e.code().code()).isEqualTo("insufficient_role"));
        assertThatThrownBy(() -> issue(owner, support.accountId()))
                .isInstanceOfSatisfying(
                        AppError.class, e -> assertThat(e.code().code()).isEqualTo("insufficient_role"));
        assertThat(Sql.admin()
                        .count(
                                "SELECT count(*) FROM signin_links WHERE account_id IN (?, ?)",
                                owner.accountId(),
                                support.accountId()))
                .isZero();
    }

    @Test
    void aLinkIssuedBeforeAStaffAddressJoinedTheAccountNoLongerSignsIn() {
        TestUser customer = users.create();
        String link = pathOf(issue(owner, customer.accountId()));
        Sql.admin()
                .update(
                        "INSERT INTO users (id, account_id, email, email_verified_at) VALUES (?, ?, ?, now())",
                        UUID.randomUUID(),
                        customer.accountId(),
                        SECOND_OWNER);
        assertThat(problem(open(link), 403).getString("code")).isEqualTo("insufficient_role");
        assertThat(Sql.admin()
                        .count(
                                "SELECT count(*) FROM sessions WHERE account_id = ? AND impersonator_id IS NOT NULL",
                                customer.accountId()))
                .isZero();
    }

    @Test
    void aSuspendedAccountIsRefusedAtIssueAndAtUseAndTheLinkIsNotSpent() {
        TestUser customer = users.create();
        String link = pathOf(issue(owner, customer.accountId()));
        users.setAccountStatus(customer.accountId(), "suspended");
        assertThatThrownBy(() -> issue(owner, customer.accountId()))
                .isInstanceOfSatisfying(
                        AppError.class, e -> assertThat(e.code().code()).isEqualTo("account_suspended"));
        assertThat(problem(open(link), 403).getString("code")).isEqualTo("account_suspended");
        assertThat(Sql.admin()
                        .count(
                                "SELECT count(*) FROM signin_links WHERE account_id = ? AND used_at IS NOT NULL",
                                customer.accountId()))
                .isZero();
        users.setAccountStatus(customer.accountId(), "active");
        assertThat(open(link).statusCode()).isEqualTo(200);
    }

    @Test
    void anUnknownAccountIs404AndSomeoneWhoIsNotStaffMayNotIssue() {
        assertThatThrownBy(() -> issue(owner, UUID.randomUUID()))
                .isInstanceOfSatisfying(
                        AppError.class, e -> assertThat(e.code().code()).isEqualTo("not_found"));
        TestUser customer = users.create();
        TestUser plain = users.create();
        assertThatThrownBy(() -> issue(plain, customer.accountId()))
                .isInstanceOfSatisfying(
                        AppError.class, e -> assertThat(e.code().code()).isEqualTo("insufficient_role"));
        Principal impersonatingOwner = new Principal(
                owner.userId(), owner.accountId(), owner.sessionId(), OWNER, true, Optional.of(UUID.randomUUID()));
        assertThatThrownBy(() ->
                        TestServer.await(links.issue(UUID.randomUUID(), customer.accountId(), impersonatingOwner)))
                .isInstanceOfSatisfying(
                        AppError.class, e -> assertThat(e.code().code()).isEqualTo("insufficient_role"));
    }
}
