package uk.co.tradersflow.admin.actions;

import static io.vertx.core.http.HttpMethod.GET;
import static org.assertj.core.api.Assertions.assertThat;
import static uk.co.tradersflow.admin.actions.AdminActionsFixtures.action;
import static uk.co.tradersflow.admin.actions.AdminActionsFixtures.ask;
import static uk.co.tradersflow.admin.actions.AdminActionsFixtures.confirm;
import static uk.co.tradersflow.admin.actions.AdminActionsFixtures.problemCode;
import static uk.co.tradersflow.admin.actions.AdminActionsFixtures.proposed;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.net.URI;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.Sql;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/**
 * The {@code signin_link} and {@code export_report} actions end to end, as the admin area runs
 * them: {@code POST /admin/api/actions}, then {@code /confirm}, then the URL the result names.
 */
class SignInLinkAndExportActionsTest {
    // Addresses of this class's own: the other action tests' staff users live in the same database.
    static final String OWNER = "links-owner-" + UUID.randomUUID() + "@tradersflow.test";
    static final String OTHER_OWNER = "links-owner2-" + UUID.randomUUID() + "@tradersflow.test";
    static final String SUPPORT = "links-support-" + UUID.randomUUID() + "@tradersflow.test";
    static TestServer server;
    static TestUsers users;
    static TestUser owner;
    static TestUser otherOwner;
    static TestUser support;

    @RegisterExtension
    static final ServerExtension lifecycle = ServerExtension.with(
                    Map.of("TF_OWNER_EMAILS", OWNER + "," + OTHER_OWNER, "TF_SUPPORT_EMAILS", SUPPORT))
            .then(s -> {
                server = s;
                users = new TestUsers(s);
                owner = users.create(OWNER, true);
                otherOwner = users.create(OTHER_OWNER, true);
                support = users.create(SUPPORT, true);
            });

    /** Asks for and confirms an action as {@code staff}; the confirmation's {@code result}. */
    private static JsonObject performed(TestUser staff, JsonObject body) {
        JsonObject asked = proposed(server, staff.token(), body);
        HttpResponse<Buffer> done =
                confirm(server, staff.token(), asked.getString("id"), asked.getString("confirmationToken"));
        assertThat(done.statusCode()).as(done.bodyAsString()).isEqualTo(200);
        return done.bodyAsJsonObject().getJsonObject("result");
    }

    private static String pathAndQuery(String url) {
        URI u = URI.create(url);
        return u.getRawPath() + "?" + u.getRawQuery();
    }

    private static HttpResponse<Buffer> get(String path, String token) {
        return TestServer.await((token == null ? server.request(GET, path) : server.request(GET, path, token)).send());
    }

    @Test
    void anOwnersConfirmedSigninLinkSignsInOnceAsTheUserImpersonated() {
        TestUser customer = users.create();
        JsonObject result = performed(owner, action("signin_link", customer.accountId(), new JsonObject()));
        assertThat(result.fieldNames()).containsExactlyInAnyOrder("url", "expiresAt");
        String link = pathAndQuery(result.getString("url"));

        HttpResponse<Buffer> first = get(link, null);
        assertThat(first.statusCode()).as(first.bodyAsString()).isEqualTo(200);
        String access = first.bodyAsJsonObject().getString("accessToken");
        assertThat(get(link, null).statusCode()).isEqualTo(401);

        String customerId = server.createCustomer(access);
        assertThat(Sql.admin()
                        .string(
                                "SELECT impersonator_id FROM audit_log WHERE action = 'customer.created' AND target_id = ?",
                                customerId))
                .isEqualTo(owner.userId().toString());
        assertThat(get("/admin/api/email/health", access).statusCode()).isEqualTo(403);
        // The link itself is never kept with the action: only when it expires.
        assertThat(Sql.admin()
                        .string(
                                "SELECT result::text FROM admin_actions WHERE account_id = ? AND action = 'signin_link'",
                                customer.accountId()))
                .doesNotContain("token")
                .contains("expiresAt");
    }

    @Test
    void supportMayIssueASigninLinkAndTheUserSeesThatSupportSignedIn() {
        TestUser customer = users.create();
        JsonObject result = performed(support, action("signin_link", customer.accountId(), new JsonObject()));
        assertThat(get(pathAndQuery(result.getString("url")), null).statusCode())
                .isEqualTo(200);
        HttpResponse<Buffer> activity = get("/api/v1/me/activity", customer.token());
        JsonObject signedIn = activity.bodyAsJsonObject().getJsonArray("items").stream()
                .map(JsonObject.class::cast)
                .filter(e -> e.getString("action").equals("support.signed_in"))
                .findFirst()
                .orElseThrow();
        assertThat(signedIn.getJsonObject("details").getString("staffId"))
                .isEqualTo(support.userId().toString());
        assertThat(signedIn.getJsonObject("details").getString("staffRole")).isEqualTo("support");
    }

    @Test
    void supportMayNotExportAReport() {
        HttpResponse<Buffer> refused =
                ask(server, support.token(), action("export_report", null, new JsonObject().put("report", "audit")));
        assertThat(refused.statusCode()).isEqualTo(403);
        assertThat(problemCode(refused)).isEqualTo("insufficient_role");
    }

    @Test
    void aSigninLinkToASuspendedAccountIsRefusedWhenConfirmed() {
        TestUser customer = users.create();
        JsonObject asked =
                proposed(server, owner.token(), action("signin_link", customer.accountId(), new JsonObject()));
        users.setAccountStatus(customer.accountId(), "suspended");
        HttpResponse<Buffer> done =
                confirm(server, owner.token(), asked.getString("id"), asked.getString("confirmationToken"));
        assertThat(done.statusCode()).as(done.bodyAsString()).isEqualTo(403);
        assertThat(problemCode(done)).isEqualTo("account_suspended");
        assertThat(Sql.admin().count("SELECT count(*) FROM signin_links WHERE account_id = ?", customer.accountId()))
                .isZero();
    }

    @Test
    void aConfirmedExportIsDownloadedOnceAsCsvByTheOwnerWhoConfirmedIt() {
        JsonObject result = performed(owner, action("export_report", null, new JsonObject().put("report", "accounts")));
        assertThat(result.getString("report")).isEqualTo("accounts");
        assertThat(result.getString("expiresAt")).isNotBlank();
        String path = pathAndQuery(result.getString("url"));

        assertThat(get(path, otherOwner.token()).statusCode()).isEqualTo(403);
        HttpResponse<Buffer> csv = get(path, owner.token());
        assertThat(csv.statusCode()).as(csv.bodyAsString()).isEqualTo(200);
        assertThat(csv.getHeader("Content-Type")).startsWith("text/csv");
        assertThat(csv.getHeader("Content-Disposition")).startsWith("attachment;");
        assertThat(csv.bodyAsString())
                .startsWith("id,businessName,status,ownerEmail,subscriptionStatus,createdAt,closedAt\r\n")
                .contains(owner.accountId().toString());
        assertThat(get(path, owner.token()).statusCode()).isEqualTo(403);
        assertThat(Sql.admin()
                        .string(
                                "SELECT result::text FROM admin_actions WHERE action = 'export_report' AND requested_by = ? "
                                        + "ORDER BY created_at DESC LIMIT 1",
                                owner.userId()))
                .doesNotContain("token");
    }

    @Test
    void anUnknownReportIsRefusedBeforeAnythingIsStored() {
        HttpResponse<Buffer> refused =
                ask(server, owner.token(), action("export_report", null, new JsonObject().put("report", "passwords")));
        assertThat(refused.statusCode()).isEqualTo(422);
        assertThat(refused.bodyAsJsonObject()
                        .getJsonArray("errors")
                        .getJsonObject(0)
                        .getString("field"))
                .isEqualTo("params.report");
    }

    @Test
    void theAuditReportCarriesTheActionsOwnEntries() {
        JsonObject result = performed(owner, action("export_report", null, new JsonObject().put("report", "audit")));
        HttpResponse<Buffer> csv = get(pathAndQuery(result.getString("url")), owner.token());
        assertThat(csv.statusCode()).isEqualTo(200);
        assertThat(csv.bodyAsString()).contains(",admin.action_requested,").contains(",admin.report_prepared,");
        assertThat(UUID.fromString(result.getString("url").replaceAll(".*/exports/([^?]+)\\?.*", "$1")))
                .isNotNull();
    }
}
