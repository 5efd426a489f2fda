package uk.co.tradersflow.email;

import io.vertx.core.Future;
import io.vertx.core.eventbus.EventBus;
import io.vertx.sqlclient.Tuple;
import java.util.Optional;
import java.util.UUID;
import uk.co.tradersflow.platform.bus.Addresses;
import uk.co.tradersflow.platform.bus.Signal;
import uk.co.tradersflow.platform.db.Tx;

/**
 * The one way any part of the server sends email: {@link #enqueue} inside the caller's own
 * transaction, so the email exists if and only if the change that caused it committed. The commit
 * wakes the dispatcher (which also polls, so a lost signal only delays).
 */
public final class EmailOutbox {
    private static final String INSERT =
            """
      INSERT INTO email_outbox (account_id, template, recipient, locale, model, dedupe_key)
      VALUES ($1, $2, $3, $4, $5, $6)
      ON CONFLICT ON CONSTRAINT email_outbox_dedupe_key DO NOTHING
      RETURNING id""";

    /** One instance, so a transaction that queues many emails wakes the dispatcher once. */
    private final Runnable nudge;

    public EmailOutbox(EventBus bus) {
        this.nudge = () -> bus.publish(Addresses.EMAIL_DISPATCH, Signal.INSTANCE);
    }

    /**
     * Queues the email in {@code tx}; empty when an email with the same dedupe key was already
     * queued. Once {@code tx} commits, the dispatcher is woken to send it now instead of at its next
     * poll.
     */
    public Future<Optional<UUID>> enqueue(Tx tx, OutgoingEmail email) {
        return insert(tx, email);
    }

    /**
     * For a writer that queues many emails with one statement of its own (an incident notice to
     * every user): wakes the dispatcher once {@code tx} commits, as {@link #enqueue} does.
     */
    public void wakeAfterCommit(Tx tx) {
        tx.afterCommit(nudge);
    }

    private Future<Optional<UUID>> insert(Tx tx, OutgoingEmail email) {
        Tuple args = Tuple.tuple()
                .addUUID(email.accountId().orElse(null))
                .addString(email.template())
                .addString(email.recipient().trim().toLowerCase(java.util.Locale.ROOT))
                .addString(email.locale())
                .addValue(email.model())
                .addString(email.dedupeKey());
        tx.afterCommit(nudge);
        return tx.preparedQuery(INSERT)
                .execute(args)
                .map(rows -> rows.size() == 0
                        ? Optional.<UUID>empty()
                        : Optional.of(rows.iterator().next().getUUID("id")))
                .onSuccess(id -> id.ifPresent(x -> EmailMetrics.count(EmailMetrics.Outcome.QUEUED)));
    }
}
