package uk.co.tradersflow.email;

import static io.vertx.core.http.HttpMethod.GET;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.support.LogCapture;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.Sql;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/** The failure-rate alert, and the owners' email routes behind the owner check. */
class EmailHealthAndAdminTest {
    static final String OWNER = "owner-" + UUID.randomUUID() + "@tradersflow.test";
    static TestServer server;
    static TestUsers users;
    static TestUser owner;

    @RegisterExtension
    static final ServerExtension lifecycle = ServerExtension.with(Map.of(
                    "TF_OWNER_EMAILS",
                    "someone@else.test, " + OWNER.toUpperCase(),
                    "TF_SMTP_PORT",
                    Integer.toString(TestServer.freePort())))
            .then(s -> {
                server = s;
                users = new TestUsers(server);
                owner = users.create(OWNER, true);
            });

    /** Writes finished outbox rows directly: the alert reads outcomes, however they came about. */
    private static void outcomes(int sent, int failed) throws Exception {
        try (Connection c = server.env.admin();
                PreparedStatement ps = c.prepareStatement(
                        "INSERT INTO email_outbox (template, recipient, dedupe_key, status, updated_at) "
                                + "VALUES ('signin_alert', 'x@health.test', ?, ?, now())")) {
            for (int i = 0; i < sent + failed; i++) {
                ps.setString(1, "health:" + UUID.randomUUID());
                ps.setString(2, i < sent ? "sent" : "failed");
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    @Test
    void theAlertIsRaisedOncePerEpisodeAboveTheThresholdWithVolumeAndClearsOnRecovery() throws Exception {
        EmailHealth health = new EmailHealth(server.main.db(), Duration.ofHours(1), 0.05, Optional.empty());
        Sql.admin().update("UPDATE email_outbox SET updated_at = now() - interval '2 hours'");
        Sql.admin().update("UPDATE email_alerts SET cleared_at = now() WHERE cleared_at IS NULL");
        outcomes(1, 1);
        assertThat(TestServer.await(health.evaluate()).alerting())
                .as("one failure in two sends pages nobody")
                .isFalse();
        outcomes(19, 3);
        try (LogCapture logs = new LogCapture()) {
            EmailHealth.Stats raised = TestServer.await(health.evaluate());
            assertThat(raised.alerting()).isTrue();
            assertThat(raised.failureRate()).isGreaterThan(0.05);
            assertThat(TestServer.await(health.evaluate()).alerting()).isTrue();
            assertThat(logs.text().split(EmailHealth.ALERT_MARKER + " raised", -1))
                    .as("raised once per episode")
                    .hasSize(2);
        }
        outcomes(200, 0);
        try (LogCapture logs = new LogCapture()) {
            assertThat(TestServer.await(health.evaluate()).alerting()).isFalse();
            assertThat(logs.text()).contains(EmailHealth.ALERT_MARKER + " cleared");
        }
    }

    @Test
    void adminEmailRoutesAre401WithoutSignIn403ForNonOwnersAndServeOwners() {
        TestUser stranger = users.create();
        TestUser unverifiedOwner = users.create("u" + OWNER, false);
        for (String path : java.util.List.of("/admin/api/emails", "/admin/api/email/health")) {
            assertThat(TestServer.await(server.request(GET, path).send()).statusCode())
                    .isEqualTo(401);
            HttpResponse<Buffer> forbidden = server.send(GET, path, stranger.token());
            assertThat(forbidden.statusCode()).isEqualTo(403);
            assertThat(forbidden.bodyAsJsonObject().getString("code")).isEqualTo("not_owner");
            assertThat(server.send(GET, path, unverifiedOwner.token()).statusCode())
                    .isEqualTo(403);
            assertThat(server.send(GET, path, owner.token()).statusCode()).isEqualTo(200);
        }
        JsonObject health =
                server.send(GET, "/admin/api/email/health", owner.token()).bodyAsJsonObject();
        assertThat(health.fieldNames())
                .containsExactlyInAnyOrder(
                        "windowSeconds", "sent", "failed", "bounced", "complained", "failureRate", "alerting");
    }

    @Test
    void theEmailLogFiltersByRecipientAndStatus() throws Exception {
        String recipient = "log-" + UUID.randomUUID() + "@customer.test";
        Sql.admin()
                .update("INSERT INTO email_outbox (template, recipient, dedupe_key, status) VALUES ('invoice', '"
                        + recipient + "', 'log:" + UUID.randomUUID() + "', 'failed')");
        Sql.admin()
                .update("INSERT INTO email_outbox (template, recipient, dedupe_key, status) VALUES ('invoice', '"
                        + recipient + "', 'log:" + UUID.randomUUID() + "', 'sent')");
        HttpResponse<Buffer> r =
                server.send(GET, "/admin/api/emails?status=failed&recipient=" + recipient.toUpperCase(), owner.token());
        assertThat(r.statusCode()).isEqualTo(200);
        var items = r.bodyAsJsonObject().getJsonArray("items");
        assertThat(items).hasSize(1);
        assertThat(items.getJsonObject(0).getString("status")).isEqualTo("failed");
        assertThat(items.getJsonObject(0).getJsonArray("events")).isEmpty();
        assertThat(server.send(GET, "/admin/api/emails?status=lost", owner.token())
                        .statusCode())
                .isEqualTo(400);
    }
}
