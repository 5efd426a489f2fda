package uk.co.tradersflow.email;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.co.tradersflow.platform.bus.Addresses;
import uk.co.tradersflow.platform.bus.Signal;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;

/**
 * Dispatch throughput to a local SMTP server (GreenMail in this JVM): N emails are queued in one
 * transaction, then timed from the dispatch signal until the SMTP server has them all. Not part
 * of the default test run (the name does not end in Test):
 * {@code mvn -o test -Dtest=EmailDispatchBenchmark -Demails=2000}
 */
class EmailDispatchBenchmark {
    private static final Logger log = LoggerFactory.getLogger(EmailDispatchBenchmark.class);

    @Test
    void dispatchThroughput() throws Exception {
        int count = Integer.getInteger("emails", 2000);
        int port = TestServer.freePort();
        GreenMail smtp = new GreenMail(new ServerSetup(port, "127.0.0.1", ServerSetup.PROTOCOL_SMTP));
        smtp.start();
        try (TestServer server =
                TestServer.start(Map.of("TF_SMTP_PORT", Integer.toString(port), "TF_SMTP_STARTTLS", "disabled"))) {
            UUID account = new TestUsers(server).create().accountId();
            try (Connection c = server.env.admin();
                    PreparedStatement ps = c.prepareStatement(
                            "INSERT INTO email_outbox (account_id, template, recipient, model, dedupe_key, next_attempt_at) "
                                    + "VALUES (?, 'signin_alert', ?, '{\"ip\":\"198.51.100.1\",\"userAgent\":\"bench\",\"at\":\"now\"}', ?, now() + interval '1 hour')")) {
                for (int i = 0; i < count; i++) {
                    ps.setObject(1, account);
                    ps.setString(2, "bench-" + i + "@bench.test");
                    ps.setString(3, "bench:" + UUID.randomUUID());
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            long start = System.nanoTime();
            try (Connection c = server.env.admin()) {
                c.createStatement()
                        .executeUpdate(
                                "UPDATE email_outbox SET next_attempt_at = now() WHERE recipient LIKE '%@bench.test'");
            }
            // Rows written behind the outbox's back: wake the dispatcher as a commit through it would.
            server.vertx.eventBus().publish(Addresses.EMAIL_DISPATCH, Signal.INSTANCE);
            boolean all = smtp.waitForIncomingEmail(300_000, count);
            double seconds = (System.nanoTime() - start) / 1e9;
            log.info(
                    "EMAIL DISPATCH BENCHMARK: {} emails in {} s = {} emails/s (all delivered: {})",
                    count,
                    String.format("%.2f", seconds),
                    String.format("%.0f", count / seconds),
                    all);
        } finally {
            smtp.stop();
        }
    }
}
