package uk.co.tradersflow.support;

import io.vertx.core.json.JsonObject;
import java.util.Optional;
import java.util.UUID;
import uk.co.tradersflow.email.EmailOutbox;
import uk.co.tradersflow.email.OutgoingEmail;

/** Queues email through the real outbox, and reads outbox rows behind the API's back. */
public final class TestEmails {
    private final TestServer server;
    private final EmailOutbox outbox;

    public TestEmails(TestServer server) {
        this.server = server;
        this.outbox = new EmailOutbox(server.vertx.eventBus());
    }

    public Optional<UUID> enqueue(
            UUID accountId, String template, String recipient, JsonObject model, String dedupeKey) {
        return TestServer.await(server.main
                .db()
                .inAccount(
                        accountId,
                        tx -> outbox.enqueue(tx, OutgoingEmail.of(template, recipient, model, dedupeKey, accountId))));
    }

    public String status(UUID id) {
        return column(id, "status");
    }

    public String column(UUID id, String column) {
        return Sql.admin()
                .find("SELECT " + column + "::text FROM email_outbox WHERE id = ?", id)
                .orElse(null);
    }

    /** Polls until the row reaches the status, for at most the given seconds. */
    public boolean awaitStatus(UUID id, String status, int seconds) {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (status.equals(status(id))) {
                return true;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return false;
    }
}
