package uk.co.tradersflow.email;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.Optional;
import java.util.UUID;

/**
 * The SQL of the provider's events: receipts that make a redelivery harmless, the events recorded
 * against our messages, and the suppressions they cause. Run in the caller's transaction, as
 * {@code tf_worker} (a webhook names no account until its message is found).
 */
final class EmailEventStore {
    private static final String FIRST_RECEIPT =
            """
      INSERT INTO email_webhook_receipts (webhook_id) VALUES ($1) ON CONFLICT DO NOTHING RETURNING webhook_id""";
    // Our own id (tags.tf_message_id) first; the provider's id when the tag is missing or unknown.
    private static final String FIND_MESSAGE =
            """
      SELECT id, account_id, recipient FROM email_outbox
       WHERE id = $1::uuid OR provider_id = $2::text
       ORDER BY (id = $1::uuid) DESC NULLS LAST
       LIMIT 1""";
    private static final String INSERT_EVENT =
            """
      INSERT INTO email_events (message_id, account_id, type, occurred_at, webhook_id, detail)
      VALUES ($1, $2, $3, $4, $5, $6)""";
    private static final String SUPPRESS =
            """
      INSERT INTO email_suppressions (address, reason, source) VALUES ($1, $2, $3) ON CONFLICT (address) DO NOTHING""";

    /** A message of ours that an event is about. */
    record Message(UUID id, Optional<UUID> accountId, String recipient) {}

    /** True the first time this webhook id is seen; a redelivery answers false and records nothing. */
    Future<Boolean> firstReceipt(SqlConnection tx, String webhookId) {
        return tx.preparedQuery(FIRST_RECEIPT).execute(Tuple.of(webhookId)).map(rows -> rows.size() == 1);
    }

    Future<Optional<Message>> findMessage(SqlConnection tx, ProviderEvent event) {
        return tx.preparedQuery(FIND_MESSAGE)
                .execute(Tuple.of(
                        event.messageId().orElse(null), event.providerId().orElse(null)))
                .map(rows -> {
                    if (rows.size() == 0) {
                        return Optional.empty();
                    }
                    Row r = rows.iterator().next();
                    return Optional.of(new Message(
                            r.getUUID("id"), Optional.ofNullable(r.getUUID("account_id")), r.getString("recipient")));
                });
    }

    Future<Void> insertEvent(SqlConnection tx, Message message, ProviderEvent event, String webhookId) {
        return tx.preparedQuery(INSERT_EVENT)
                .execute(Tuple.of(
                        message.id(),
                        message.accountId().orElse(null),
                        event.type(),
                        event.occurredAt(),
                        webhookId,
                        event.detail()))
                .mapEmpty();
    }

    /** Puts the address on the suppression list; one already there keeps its first reason. */
    Future<Void> suppress(SqlConnection tx, String address, String reason, String source) {
        return tx.preparedQuery(SUPPRESS)
                .execute(Tuple.of(address, reason, source))
                .mapEmpty();
    }

    /** A provider event, normalised. */
    record ProviderEvent(
            String type,
            Optional<UUID> messageId,
            Optional<String> providerId,
            OffsetDateTime occurredAt,
            JsonObject detail,
            boolean hardBounce) {
        Optional<String> suppressionReason() {
            return switch (type) {
                case "bounced" -> hardBounce ? Optional.of("bounced") : Optional.empty();
                case "complained" -> Optional.of("complained");
                case "unsubscribed" -> Optional.of("unsubscribed");
                default -> Optional.empty();
            };
        }
    }
}
