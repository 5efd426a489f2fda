package uk.co.tradersflow.email;

import static org.assertj.core.api.Assertions.assertThat;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import uk.co.tradersflow.support.LogCapture;
import uk.co.tradersflow.support.TestEmails;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/** The SMTP server is down when the email is queued: nothing is lost, and it goes out once it is back. */
class EmailRetryTest {
  static int port;
  static TestServer server;
  static GreenMail smtp;

  @BeforeAll
  static void start() {
    port = TestServer.freePort();
    server = TestServer.start(Map.of("TF_SMTP_PORT", Integer.toString(port), "TF_SMTP_STARTTLS", "disabled",
        "TF_EMAIL_RETRY_BASE_SECONDS", "1", "TF_EMAIL_MAX_ATTEMPTS", "10"));
  }

  @AfterAll
  static void stop() {
    server.close();
    if (smtp != null) {
      smtp.stop();
    }
  }

  @Test
  void emailQueuedWhileSmtpIsDownIsRetriedAndDeliveredWhenItReturns() throws Exception {
    TestUser user = new TestUsers(server).create();
    TestEmails emails = new TestEmails(server);
    UUID id;
    String domain = UUID.randomUUID() + ".test";
    try (LogCapture logs = new LogCapture()) {
      id = emails.enqueue(user.accountId(), "password_changed", "retry@" + domain,
          new JsonObject().put("changedAt", "2026-11-25T10:00:00Z"), "pw:" + UUID.randomUUID()).orElseThrow();
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (Integer.parseInt(emails.column(id, "attempts")) < 2 && System.nanoTime() < deadline) {
        Thread.sleep(100);
      }
      assertThat(Integer.parseInt(emails.column(id, "attempts"))).as("retried while down").isGreaterThanOrEqualTo(2);
      assertThat(emails.status(id)).isIn("queued", "sending");
      assertThat(emails.column(id, "last_error")).isNotBlank();
      assertThat(logs.text().split("is unreachable", -1)).as("the outage is reported once, not per attempt").hasSize(2);
    }
    smtp = new GreenMail(new ServerSetup(port, "127.0.0.1", ServerSetup.PROTOCOL_SMTP));
    smtp.start();
    assertThat(emails.awaitStatus(id, "sent", 20)).isTrue();
    assertThat(smtp.getReceivedMessagesForDomain(domain)).as("delivered once").hasSize(1);
  }
}
