package uk.co.tradersflow.email;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import uk.co.tradersflow.support.Sql;
import uk.co.tradersflow.support.TestServer;

/**
 * An outcome belongs to the claim that produced it: a dispatcher whose lease ran out, and whose
 * row another dispatcher has claimed since, cannot mark it sent or requeue it (which would send
 * it twice). A sent email keeps no model, since models can hold single-use links; a failed one
 * keeps it, so that an owner can requeue it. Only a failure of the message spends an attempt.
 */
class OutboxClaimTest {
    private static final String MODEL = "{\"resetUrl\": \"https://x/reset-password?token=secret\"}";

    @Test
    void aStaleClaimsOutcomeChangesNothingAndASentEmailForgetsItsModel() throws Exception {
        try (TestServer server = TestServer.start()) {
            UUID id = UUID.randomUUID();
            claimedReset(server, id, "stale@claims.example.test");
            OutboxStore store = new OutboxStore(server.main.db());
            OutboxMessage firstClaim =
                    new OutboxMessage(id, "password_reset", "stale@claims.example.test", new JsonObject(), 0, 1);
            OutboxMessage currentClaim =
                    new OutboxMessage(id, "password_reset", "stale@claims.example.test", new JsonObject(), 0, 2);

            TestServer.await(store.retryOrFail(firstClaim, "late failure", 6, Duration.ZERO, Instant.now()));
            TestServer.await(store.release(firstClaim, "late outage", Optional.of(Instant.now())));
            TestServer.await(store.sent(firstClaim, "250", "late"));
            assertThat(row(server, id)).isEqualTo("sending|0|" + MODEL);

            TestServer.await(store.sent(currentClaim, "250 accepted", "<m@x>"));
            assertThat(row(server, id)).isEqualTo("sent|1|{}");
        }
    }

    /** A rejection spends an attempt and keeps what the next one needs, also when it fails for good (for a requeue). */
    @Test
    void aRejectionSpendsAnAttemptAndFailingForGoodKeepsTheModelForARequeue() throws Exception {
        try (TestServer server = TestServer.start()) {
            UUID id = UUID.randomUUID();
            claimedReset(server, id, "bounce@claims.example.test");
            OutboxStore store = new OutboxStore(server.main.db());
            OutboxMessage claim =
                    new OutboxMessage(id, "password_reset", "bounce@claims.example.test", new JsonObject(), 0, 2);

            TestServer.await(store.retryOrFail(claim, "550 mailbox full", 3, Duration.ZERO, Instant.now()));
            assertThat(row(server, id)).isEqualTo("queued|1|" + MODEL);

            Sql.admin()
                    .update(
                            "UPDATE email_outbox SET status = 'sending', lease_until = now() + interval '1 hour' WHERE id = '"
                                    + id + "'");
            TestServer.await(store.retryOrFail(claim, "550 no such user", 2, Duration.ZERO, Instant.now()));
            assertThat(row(server, id)).isEqualTo("failed|2|" + MODEL);
        }
    }

    /** The mail server failing is not the message's failure: the claim goes back with its attempts as they were. */
    @Test
    void aReleasedClaimIsQueuedAgainWithoutSpendingAnAttempt() throws Exception {
        try (TestServer server = TestServer.start()) {
            UUID id = UUID.randomUUID();
            claimedReset(server, id, "outage@claims.example.test");
            OutboxStore store = new OutboxStore(server.main.db());
            OutboxMessage claim =
                    new OutboxMessage(id, "password_reset", "outage@claims.example.test", new JsonObject(), 0, 2);
            Instant later = Instant.now().plus(Duration.ofDays(1));

            TestServer.await(store.release(claim, "451 try that recipient later", Optional.of(later)));

            assertThat(row(server, id)).isEqualTo("queued|0|" + MODEL);
            assertThat(column(server, id, "last_error")).isEqualTo("451 try that recipient later");
            assertThat(column(server, id, "next_attempt_at > now() + interval '23 hours'"))
                    .isEqualTo("true");

            // The whole server failed: released in its place (its due time kept), so the queue keeps its order.
            Sql.admin()
                    .update(
                            "UPDATE email_outbox SET status = 'sending', next_attempt_at = '2026-01-02T03:04:05Z' WHERE id = '"
                                    + id + "'");
            TestServer.await(store.release(claim, "Connection refused", Optional.empty()));
            assertThat(row(server, id)).isEqualTo("queued|0|" + MODEL);
            assertThat(column(server, id, "next_attempt_at = '2026-01-02T03:04:05Z'"))
                    .isEqualTo("true");
        }
    }

    /** The heartbeat extends only the claims it names: a row another dispatcher has claimed since keeps that claim's lease. */
    @Test
    void renewingExtendsTheLeaseOfTheCurrentClaimOnly() throws Exception {
        try (TestServer server = TestServer.start()) {
            UUID current = UUID.randomUUID();
            UUID taken = UUID.randomUUID();
            claimedReset(server, current, "renew@claims.example.test");
            claimedReset(server, taken, "taken@claims.example.test");
            Sql.admin()
                    .update("UPDATE email_outbox SET lease_until = now() + interval '1 second' WHERE id IN ('" + current
                            + "', '" + taken + "')");
            OutboxStore store = new OutboxStore(server.main.db());

            TestServer.await(store.renew(Map.of(current, 2, taken, 1), Duration.ofMinutes(5)));

            assertThat(column(server, current, "lease_until > now() + interval '4 minutes'"))
                    .isEqualTo("true");
            assertThat(column(server, taken, "lease_until < now() + interval '2 seconds'"))
                    .isEqualTo("true");
        }
    }

    /**
     * A reset email being sent: held by a live lease, so the running dispatcher leaves it alone;
     * claims = 2 is the current claim, no attempt counted yet. Its model holds a single-use link.
     */
    private static void claimedReset(TestServer server, UUID id, String recipient) throws Exception {
        Sql.admin()
                .update(
                        "INSERT INTO email_outbox (id, template, recipient, dedupe_key, model, status, attempts, claims, lease_until) VALUES ('"
                                + id + "', 'password_reset', '" + recipient + "', 'claim-" + id + "', "
                                + "'{\"resetUrl\":\"https://x/reset-password?token=secret\"}', 'sending', 0, 2, now() + interval '1 hour')");
    }

    private static String row(TestServer server, UUID id) throws Exception {
        return column(server, id, "status || '|' || attempts || '|' || model::text");
    }

    private static String column(TestServer server, UUID id, String expression) throws Exception {
        return Sql.admin()
                .strings("SELECT (" + expression + ")::text FROM email_outbox WHERE id = ?", id)
                .get(0);
    }
}
