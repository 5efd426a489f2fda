package uk.co.tradersflow.incident;

import static org.assertj.core.api.Assertions.assertThat;
import static uk.co.tradersflow.support.LocalSmtp.part;
import static uk.co.tradersflow.support.Sql.strings;

import com.icegreen.greenmail.util.GreenMail;
import jakarta.mail.internet.MimeMessage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import uk.co.tradersflow.support.LocalSmtp;
import uk.co.tradersflow.support.OpsCli;
import uk.co.tradersflow.support.ScratchDatabase;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.Sql;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/** Notifying affected users: one templated email per verified user, once per incident, paced, audited. */
class IncidentNoticeTest {
    static GreenMail smtp;
    static TestServer server;
    static TestUsers users;

    @RegisterExtension
    static final ServerExtension lifecycle =
            LocalSmtp.server(started -> smtp = started).then(s -> server = s).then(s -> users = new TestUsers(s));

    @TempDir
    Path dir;

    private static Map<String, String> env() {
        return OpsCli.envOf(server);
    }

    private Path body(String text) throws Exception {
        Path f = dir.resolve("body-" + UUID.randomUUID() + ".txt");
        Files.writeString(f, text);
        return f;
    }

    private static MimeMessage[] receivedFor(String domain, int count) throws InterruptedException {
        return LocalSmtp.receivedFor(smtp, domain, count, 15);
    }

    @Test
    void eachVerifiedUserOfTheNamedAccountsGetsOneEmailOnceAndEachAccountIsAudited() throws Exception {
        String domain = UUID.randomUUID() + ".test";
        TestUser a1 = users.create("owner@" + domain, true);
        insertUser(a1.accountId(), "colleague@" + domain, true);
        insertUser(a1.accountId(), "unverified@" + domain, false);
        TestUser b = users.create("b@" + domain, true);
        users.create("bystander@" + domain, true);
        String incident = "inc-" + UUID.randomUUID().toString().substring(0, 8);
        Path bodyFile = body(
                """
        On 5 December we found that invoices could be read by another account.
        We closed the gap the same day.

        Nothing is needed from you. <b>Questions?</b> Reply to this email.
        """);
        String[] args = {
            "incident-notice",
            "--accounts",
            a1.accountId() + "," + b.accountId(),
            "--subject",
            "Security notice about your TradersFlow account",
            "--body-file",
            bodyFile.toString(),
            "--incident",
            incident,
            "--per-minute",
            "6000"
        };
        OpsCli.Run first = OpsCli.run(env(), args);
        assertThat(first.exit()).as(first.err()).isZero();
        assertThat(first.out()).contains("queued 3 email(s) to the users of 2 account(s)");

        MimeMessage[] received = receivedFor(domain, 3);
        assertThat(Arrays.stream(received).map(m -> recipient(m)).sorted().toList())
                .containsExactly("b@" + domain, "colleague@" + domain, "owner@" + domain);
        MimeMessage one = received[0];
        assertThat(one.getSubject()).isEqualTo("Security notice about your TradersFlow account");
        assertThat(one.getHeader("List-Unsubscribe"))
                .as("a security notice cannot be unsubscribed from")
                .isNull();
        assertThat(part(one, "text/html"))
                .as("the operator's text is escaped in HTML")
                .contains("&lt;b&gt;Questions?&lt;/b&gt;")
                .doesNotContain("<b>Questions?</b>");
        assertThat(part(one, "text/plain"))
                .contains(
                        "On 5 December we found that invoices could be read by another account. We closed the gap the same day.")
                .contains("Nothing is needed from you. <b>Questions?</b> Reply to this email.")
                .contains("Reference: " + incident);

        OpsCli.Run again = OpsCli.run(env(), args);
        assertThat(again.exit()).isZero();
        assertThat(again.out()).contains("queued 0 email(s)");
        Thread.sleep(500);
        assertThat(smtp.getReceivedMessagesForDomain(domain))
                .as("nothing sent twice, nobody else mailed")
                .hasSize(3);

        try (Connection c = server.env.admin()) {
            assertThat(strings(
                            c,
                            "SELECT account_id::text || ' ' || (details->>'recipients') FROM audit_log "
                                    + "WHERE action = 'incident_notice_queued' AND target_id = '" + incident
                                    + "' ORDER BY account_id"))
                    .containsExactlyInAnyOrder(a1.accountId() + " 2", b.accountId() + " 1");
        }
    }

    @Test
    void sendsArePacedAtTheRequestedRate() throws Exception {
        String domain = UUID.randomUUID() + ".test";
        TestUser first = users.create("p0@" + domain, true);
        insertUser(first.accountId(), "p1@" + domain, true);
        insertUser(first.accountId(), "p2@" + domain, true);
        String incident = "paced-" + UUID.randomUUID().toString().substring(0, 8);
        OpsCli.Run r = OpsCli.run(
                env(),
                "incident-notice",
                "--accounts",
                first.accountId().toString(),
                "--subject",
                "Notice",
                "--body-file",
                body("Paced.").toString(),
                "--incident",
                incident,
                "--per-minute",
                "2");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("sent over 60 s");
        List<String> gaps = Sql.admin()
                .strings("SELECT round(extract(epoch FROM next_attempt_at - min(next_attempt_at) OVER ()))::text "
                        + "FROM email_outbox WHERE dedupe_key LIKE 'incident:" + incident
                        + ":%' ORDER BY next_attempt_at");
        assertThat(gaps).containsExactly("0", "30", "60");
        // Not left for later test classes' servers to send to a mail server that is not there.
        Sql.admin()
                .update("DELETE FROM email_outbox WHERE dedupe_key LIKE 'incident:" + incident
                        + ":%' AND status = 'queued'");
    }

    @Test
    void aNoticeToEveryAccountReachesEveryVerifiedUser() throws Exception {
        // A database of its own: a platform-wide notice in the run's shared database would mail other test classes'
        // users.
        try (ScratchDatabase db = ScratchDatabase.latest()) {
            try (Connection c = db.admin();
                    Statement s = c.createStatement()) {
                for (int i = 0; i < 3; i++) {
                    s.execute("WITH a AS (INSERT INTO accounts (business_name) VALUES ('B" + i + "') RETURNING id) "
                            + "INSERT INTO users (account_id, email, email_verified_at) SELECT id, 'all" + i
                            + "@scratch.test', "
                            + (i == 2 ? "NULL" : "now()") + " FROM a");
                }
            }
            OpsCli.Run r = OpsCli.run(
                    Map.of("TF_DB_ADMIN_URL", db.adminUrl(), "TF_DEV_DATA_DIR", dir.toString()),
                    "incident-notice",
                    "--all",
                    "--subject",
                    "Notice",
                    "--body-file",
                    body("To all.").toString());
            assertThat(r.exit()).as(r.err()).isZero();
            assertThat(r.out()).contains("queued 2 email(s) to the users of 2 account(s)");
            try (Connection c = db.admin()) {
                assertThat(strings(c, "SELECT recipient || ' ' || template FROM email_outbox ORDER BY recipient"))
                        .containsExactly("all0@scratch.test incident_notice", "all1@scratch.test incident_notice");
                assertThat(strings(c, "SELECT count(*)::text FROM audit_log WHERE action = 'incident_notice_queued'"))
                        .containsExactly("2");
            }
        }
    }

    @Test
    void aMultiLineSubjectOrAnEmptyBodyIsRefusedAndQueuesNothing() throws Exception {
        TestUser u = users.create();
        OpsCli.Run emptyBody = OpsCli.run(
                env(),
                "incident-notice",
                "--accounts",
                u.accountId().toString(),
                "--subject",
                "Notice",
                "--body-file",
                body("\n\n  \n").toString(),
                "--incident",
                "empty-body");
        assertThat(emptyBody.exit()).isEqualTo(2);
        assertThat(emptyBody.err()).contains("body");
        OpsCli.Run twoLines = OpsCli.run(
                env(),
                "incident-notice",
                "--accounts",
                u.accountId().toString(),
                "--subject",
                "Notice\nBcc: everyone@example.com",
                "--body-file",
                body("Text").toString(),
                "--incident",
                "two-lines");
        assertThat(twoLines.exit()).isEqualTo(2);
        assertThat(twoLines.err()).contains("subject");
        try (Connection c = server.env.admin()) {
            assertThat(strings(c, "SELECT count(*)::text FROM email_outbox WHERE account_id = '" + u.accountId() + "'"))
                    .containsExactly("0");
        }
    }

    private static String recipient(MimeMessage m) {
        try {
            return m.getAllRecipients()[0].toString();
        } catch (jakarta.mail.MessagingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void insertUser(UUID account, String email, boolean verified) throws Exception {
        Sql.admin()
                .update("INSERT INTO users (account_id, email, email_verified_at) VALUES ('" + account + "', '" + email
                        + "', " + (verified ? "now()" : "NULL") + ")");
    }
}
