package uk.co.tradersflow.admin.actions;

import static org.assertj.core.api.Assertions.assertThat;
import static uk.co.tradersflow.admin.actions.AdminActionsFixtures.action;
import static uk.co.tradersflow.admin.actions.AdminActionsFixtures.auditOf;
import static uk.co.tradersflow.admin.actions.AdminActionsFixtures.status;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.billing.StripeGateway;
import uk.co.tradersflow.platform.http.ClientInfo;
import uk.co.tradersflow.platform.security.Principal;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.Sql;
import uk.co.tradersflow.support.StaffedServer;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers.TestUser;

/**
 * The service the routes call, used as the console and jobs will, with small test-scope sign-in
 * link and report services: support's sign-in link and an owner's export are performed once,
 * handed exactly the confirmed action, and their URLs (bearer secrets) are answered but stored
 * nowhere: not in the action's row, not in the audit log.
 */
class AdminActionsWithoutHttpTest {
    static final StaffedServer at = AdminActionsFixtures.staffed();
    static AdminActionsService service;
    static final List<String> issued = new CopyOnWriteArrayList<>();
    static final ClientInfo.Client CLIENT = new ClientInfo.Client("127.0.0.1", "console");

    @RegisterExtension
    static final ServerExtension lifecycle = AdminActionsFixtures.withFakeStripe(at, f -> {})
            .then(s -> {
                SignInLinks links = (actionId, accountId, staff) -> {
                    issued.add(actionId + " " + accountId + " " + staff.userId());
                    return Future.succeededFuture(new JsonObject()
                            .put("url", "https://localhost/api/v1/auth/signin-link?token=secret-" + actionId)
                            .put("expiresAt", "2026-12-06T12:00:00Z"));
                };
                ReportExports reports = (actionId, report, by) -> Future.succeededFuture(new JsonObject()
                        .put("report", report)
                        .put("url", "https://localhost/exports/" + report + "?sig=secret-" + actionId)
                        .put("expiresAt", "2026-12-06T12:00:00Z"));
                AuditLog audit = new AuditLog(s.vertx.eventBus());
                service = new AdminActionsService(
                        s.main.db(),
                        new AdminActionsRepository(s.main.db()),
                        audit,
                        s.config.auth(),
                        new ActionEffects(
                                s.main.db(),
                                audit,
                                new StripeGateway(s.vertx, s.config.billing()),
                                links,
                                reports,
                                Clock.systemUTC()));
            });

    private static Principal principal(TestUser u) {
        return new Principal(u.userId(), u.accountId(), u.sessionId(), u.email(), true, Optional.empty());
    }

    private static JsonObject performed(TestUser staff, JsonObject body) {
        AdminActionsService.Proposed p =
                TestServer.await(service.request(new AdminActionsService.Request(principal(staff), CLIENT, body)));
        return TestServer.await(service.confirm(new AdminActionsService.Confirm(
                        p.id(), Optional.of(p.confirmationToken()), principal(staff), CLIENT)))
                .put("id", p.id().toString());
    }

    @Test
    void supportsSignInLinkIsIssuedForTheConfirmedActionAndItsUrlIsStoredNowhere() {
        TestUser trader = at.users.create();
        JsonObject done = performed(at.support, action("signin_link", trader.accountId(), new JsonObject()));
        String id = done.getString("id");
        String url = done.getJsonObject("result").getString("url");
        assertThat(url).contains("secret-" + id);
        assertThat(issued).contains(id + " " + trader.accountId() + " " + at.support.userId());
        assertThat(status(id)).isEqualTo("done");
        assertThat(Sql.admin().string("SELECT result::text FROM admin_actions WHERE id = ?::uuid", id))
                .doesNotContain("secret")
                .contains("expiresAt");
        assertThat(auditOf(id))
                .containsExactly("admin.action_requested", "admin.action_confirmed", "admin.signin_link");
        assertThat(Sql.admin().strings("SELECT details::text FROM audit_log WHERE target_id = ?", id))
                .noneMatch(d -> d.contains("secret"));
    }

    @Test
    void anOwnersExportIsPreparedForTheNamedReportAndItsUrlIsStoredNowhere() {
        JsonObject done = performed(at.owner, action("export_report", null, new JsonObject().put("report", "emails")));
        String id = done.getString("id");
        assertThat(done.getJsonObject("result").getString("report")).isEqualTo("emails");
        assertThat(done.getJsonObject("result").getString("url")).contains("secret-" + id);
        assertThat(Sql.admin().string("SELECT result::text FROM admin_actions WHERE id = ?::uuid", id))
                .doesNotContain("secret");
        assertThat(Sql.admin()
                        .count("SELECT count(*) FROM admin_actions WHERE id = ?::uuid AND account_id IS NULL", id))
                .as("a report concerns no one account")
                .isEqualTo(1);
        assertThat(auditOf(id))
                .containsExactly("admin.action_requested", "admin.action_confirmed", "admin.export_report");
    }

    @Test
    void theRuntimeRoleCannotReachStoredActionsAtAll() {
        assertThat(Sql.admin().string("SELECT has_table_privilege('tf_app', 'admin_actions', 'SELECT')::text"))
                .isEqualTo("false");
        assertThat(
                        Sql.admin()
                                .string(
                                        "SELECT has_column_privilege('tf_worker', 'admin_actions', 'token_hash', 'UPDATE')::text"))
                .as("a stored token hash cannot be replaced")
                .isEqualTo("false");
        assertThat(Sql.admin().string("SELECT has_table_privilege('tf_worker', 'admin_actions', 'DELETE')::text"))
                .isEqualTo("false");
    }
}
