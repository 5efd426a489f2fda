package uk.co.tradersflow.email;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import uk.co.tradersflow.support.TestServer;

/**
 * An outcome belongs to the claim that produced it: a dispatcher whose lease ran out, and whose
 * row another dispatcher has claimed since, cannot mark it sent or requeue it (which would send
 * it twice). A sent email keeps no model, since models can hold single-use links.
 */
class OutboxClaimTest {

  @Test
  void aStaleClaimsOutcomeChangesNothingAndASentEmailForgetsItsModel() throws Exception {
    try (TestServer server = TestServer.start()) {
      UUID id = UUID.randomUUID();
      claimedReset(server, id, "stale@claims.example.test");
      OutboxStore store = new OutboxStore(server.main.db());
      OutboxMessage firstClaim = new OutboxMessage(id, "password_reset", "stale@claims.example.test", new JsonObject(), 1);
      OutboxMessage currentClaim = new OutboxMessage(id, "password_reset", "stale@claims.example.test", new JsonObject(), 2);

      TestServer.await(store.retryOrFail(firstClaim, "late failure", 6, Duration.ZERO));
      TestServer.await(store.sent(firstClaim, "250", "late"));
      assertThat(row(server, id)).isEqualTo("sending|{\"resetUrl\": \"https://x/reset-password?token=secret\"}");

      TestServer.await(store.sent(currentClaim, "250 accepted", "<m@x>"));
      assertThat(row(server, id)).isEqualTo("sent|{}");
    }
  }

  /** A retry keeps what the next attempt needs; failing for good drops it, single-use links and all. */
  @Test
  void aRetryKeepsTheModelAndFailingForGoodForgetsIt() throws Exception {
    try (TestServer server = TestServer.start()) {
      UUID id = UUID.randomUUID();
      claimedReset(server, id, "bounce@claims.example.test");
      OutboxStore store = new OutboxStore(server.main.db());
      OutboxMessage claim = new OutboxMessage(id, "password_reset", "bounce@claims.example.test", new JsonObject(), 2);

      TestServer.await(store.retryOrFail(claim, "421 try later", 3, Duration.ZERO));
      assertThat(row(server, id)).isEqualTo("queued|{\"resetUrl\": \"https://x/reset-password?token=secret\"}");

      try (Connection c = server.env.admin(); Statement s = c.createStatement()) {
        s.executeUpdate("UPDATE email_outbox SET status = 'sending', lease_until = now() + interval '1 hour' WHERE id = '" + id + "'");
      }
      TestServer.await(store.retryOrFail(claim, "550 no such user", 2, Duration.ZERO));
      assertThat(row(server, id)).isEqualTo("failed|{}");
    }
  }

  /**
   * A reset email being sent: held by a live lease, so the running dispatcher leaves it alone;
   * attempts = 2 is the current claim. Its model holds a single-use link.
   */
  private static void claimedReset(TestServer server, UUID id, String recipient) throws Exception {
    try (Connection c = server.env.admin(); Statement s = c.createStatement()) {
      s.executeUpdate("INSERT INTO email_outbox (id, template, recipient, dedupe_key, model, status, attempts, lease_until) VALUES ('"
          + id + "', 'password_reset', '" + recipient + "', 'claim-" + id + "', "
          + "'{\"resetUrl\":\"https://x/reset-password?token=secret\"}', 'sending', 2, now() + interval '1 hour')");
    }
  }

  private static String row(TestServer server, UUID id) throws Exception {
    try (Connection c = server.env.admin();
         PreparedStatement ps = c.prepareStatement("SELECT status || '|' || model::text FROM email_outbox WHERE id = ?")) {
      ps.setObject(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getString(1);
      }
    }
  }
}
