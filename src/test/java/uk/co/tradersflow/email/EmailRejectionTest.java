package uk.co.tradersflow.email;

import static io.vertx.core.http.HttpMethod.POST;
import static org.assertj.core.api.Assertions.assertThat;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.Sql;
import uk.co.tradersflow.support.TestEmails;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/**
 * Which failures spend a message's attempts (issue 23 item 19): a permanent rejection of the
 * recipient does, a busy server does not; and an owner can requeue a message that failed for good.
 * A real SMTP server (GreenMail) sits behind {@link SmtpFaultProxy}, which injects the replies.
 */
class EmailRejectionTest {
    static final String OWNER = "owner-" + UUID.randomUUID() + "@tradersflow.test";
    static GreenMail smtp;
    static SmtpFaultProxy proxy;
    static TestServer server;
    static TestEmails emails;
    static TestUser user;
    static TestUser owner;

    @RegisterExtension
    static final ServerExtension lifecycle = ServerExtension.with(() -> {
                smtp = new GreenMail(new ServerSetup(TestServer.freePort(), "127.0.0.1", ServerSetup.PROTOCOL_SMTP));
                smtp.start();
                proxy = new SmtpFaultProxy(smtp.getSmtp().getPort());
                OutboxRows.settleLeftovers();
                return Map.of(
                        "TF_SMTP_PORT",
                        Integer.toString(proxy.port),
                        "TF_SMTP_STARTTLS",
                        "disabled",
                        "TF_EMAIL_MAX_ATTEMPTS",
                        "2",
                        "TF_EMAIL_RETRY_BASE_SECONDS",
                        "1",
                        "TF_OWNER_EMAILS",
                        OWNER);
            })
            .closing(() -> smtp == null ? null : smtp::stop)
            .closing(() -> proxy)
            .then(s -> {
                server = s;
                emails = new TestEmails(server);
                TestUsers users = new TestUsers(server);
                user = users.create();
                owner = users.create(OWNER, true);
            });

    @AfterEach
    void healthyAgain() {
        proxy.busy = false;
        proxy.rejectMarker = "\u0000";
    }

    private static UUID enqueue(String recipient) {
        return emails.enqueue(
                        user.accountId(),
                        "password_reset",
                        recipient,
                        new JsonObject().put("resetUrl", "https://app.test/reset-password?token=" + UUID.randomUUID()),
                        "rej:" + UUID.randomUUID())
                .orElseThrow();
    }

    @Test
    void aPermanentRejectionSpendsThatMessagesAttemptsWhileTheOthersAreDelivered() throws Exception {
        String domain = UUID.randomUUID() + ".test";
        proxy.rejectMarker = "refused@" + domain;
        UUID rejected = enqueue("refused@" + domain);
        UUID first = enqueue("fine-1@" + domain);
        UUID second = enqueue("fine-2@" + domain);

        assertThat(emails.awaitStatus(rejected, "failed", 20))
                .as("failed after its 2 attempts")
                .isTrue();
        assertThat(emails.column(rejected, "attempts")).isEqualTo("2");
        assertThat(emails.column(rejected, "last_error")).contains("550");
        assertThat(emails.awaitStatus(first, "sent", 10)).isTrue();
        assertThat(emails.awaitStatus(second, "sent", 10)).isTrue();
        assertThat(emails.column(first, "attempts")).isEqualTo("1");
    }

    @Test
    void aBusyServerPausesTheQueueWithoutSpendingAttemptsAndItResumesWhenTheServerTakesMailAgain() throws Exception {
        String domain = UUID.randomUUID() + ".test";
        proxy.busy = true;
        UUID id = enqueue("busy@" + domain);

        assertThat(OutboxRows.awaitAtLeast(server, List.of(id), "sum(claims)", 3, 15))
                .as("probed while busy")
                .isGreaterThanOrEqualTo(3);
        assertThat(emails.column(id, "attempts")).as("421 spends no attempt").isEqualTo("0");
        assertThat(emails.status(id)).isIn("queued", "sending");
        assertThat(emails.column(id, "last_error")).contains("421");

        proxy.busy = false;
        assertThat(emails.awaitStatus(id, "sent", 10)).isTrue();
        assertThat(smtp.getReceivedMessagesForDomain(domain)).hasSize(1);
    }

    @Test
    void anOwnerRequeuesAFailedEmailWhichIsThenDeliveredAndTheRequeueIsAudited() throws Exception {
        String domain = UUID.randomUUID() + ".test";
        proxy.rejectMarker = "again@" + domain;
        UUID id = enqueue("again@" + domain);
        assertThat(emails.awaitStatus(id, "failed", 20)).isTrue();
        proxy.rejectMarker = "\u0000"; // the cause is fixed (a full mailbox emptied, a provider setting corrected)
        String path = "/admin/api/emails/" + id + "/requeue";

        assertThat(TestServer.await(server.request(POST, path).send()).statusCode())
                .isEqualTo(401);
        HttpResponse<Buffer> stranger = server.send(POST, path, user.token());
        assertThat(stranger.statusCode()).isEqualTo(403);
        assertThat(stranger.bodyAsJsonObject().getString("code")).isEqualTo("not_owner");
        assertThat(emails.status(id)).as("a refused requeue changes nothing").isEqualTo("failed");

        HttpResponse<Buffer> requeued = server.send(POST, path, owner.token());
        assertThat(requeued.statusCode()).as(requeued.bodyAsString()).isEqualTo(202);
        assertThat(requeued.bodyAsJsonObject())
                .isEqualTo(new JsonObject().put("id", id.toString()).put("status", "queued"));
        assertThat(emails.awaitStatus(id, "sent", 10)).isTrue();
        assertThat(smtp.getReceivedMessagesForDomain(domain))
                .as("sent once, with its link")
                .hasSize(1);
        assertThat(emails.column(id, "attempts"))
                .as("a requeue starts the attempts afresh")
                .isEqualTo("1");
        assertThat(auditEntries(id)).isEqualTo(1);

        HttpResponse<Buffer> notFailed = server.send(POST, path, owner.token());
        assertThat(notFailed.statusCode()).isEqualTo(409);
        assertThat(notFailed.getHeader("Content-Type")).startsWith("application/problem+json");
        assertThat(server.send(POST, "/admin/api/emails/" + UUID.randomUUID() + "/requeue", owner.token())
                        .statusCode())
                .isEqualTo(404);
        assertThat(server.send(POST, "/admin/api/emails/not-an-id/requeue", owner.token())
                        .statusCode())
                .isEqualTo(404);
        assertThat(auditEntries(id))
                .as("only the requeue that happened is audited")
                .isEqualTo(1);
    }

    private static long auditEntries(UUID id) throws Exception {
        return Sql.admin()
                .count(
                        "SELECT count(*) FROM audit_log WHERE action = 'email.requeued' "
                                + "AND target_type = 'email' AND target_id = ? AND actor_type = 'owner' AND actor_id = ?",
                        id.toString(),
                        owner.userId());
    }
}
