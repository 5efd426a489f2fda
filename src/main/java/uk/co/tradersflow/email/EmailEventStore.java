package uk.co.tradersflow.email;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.Optional;
import java.util.UUID;
import uk.co.tradersflow.platform.db.Db;

/** Records the provider's events against our messages, and the suppressions they cause. */
final class EmailEventStore {
  private static final String FIRST_RECEIPT = """
      INSERT INTO email_webhook_receipts (webhook_id) VALUES ($1) ON CONFLICT DO NOTHING RETURNING webhook_id""";
  // Our own id (tags.tf_message_id) first; the provider's id when the tag is missing or unknown.
  private static final String FIND_MESSAGE = """
      SELECT id, account_id, recipient FROM email_outbox
       WHERE id = $1::uuid OR provider_id = $2::text
       ORDER BY (id = $1::uuid) DESC NULLS LAST
       LIMIT 1""";
  private static final String INSERT_EVENT = """
      INSERT INTO email_events (message_id, account_id, type, occurred_at, webhook_id, detail)
      VALUES ($1, $2, $3, $4, $5, $6)""";
  private static final String SUPPRESS = """
      INSERT INTO email_suppressions (address, reason, source) VALUES ($1, $2, $3) ON CONFLICT (address) DO NOTHING""";

  enum Outcome { RECORDED, DUPLICATE, UNKNOWN_MESSAGE }

  private final Db db;

  EmailEventStore(Db db) {
    this.db = db;
  }

  /** All in one transaction: the receipt, the event and any suppression commit together or not at all. */
  Future<Outcome> record(String webhookId, ProviderEvent event) {
    return db.asWorker(tx -> tx.preparedQuery(FIRST_RECEIPT).execute(Tuple.of(webhookId)).compose(receipt -> {
      if (receipt.size() == 0) {
        return Future.succeededFuture(Outcome.DUPLICATE);
      }
      return tx.preparedQuery(FIND_MESSAGE).execute(Tuple.of(event.messageId().orElse(null), event.providerId().orElse(null)))
          .compose(rows -> {
            if (rows.size() == 0) {
              return Future.succeededFuture(Outcome.UNKNOWN_MESSAGE);
            }
            var row = rows.iterator().next();
            UUID messageId = row.getUUID("id");
            Future<?> inserted = tx.preparedQuery(INSERT_EVENT).execute(Tuple.of(messageId, row.getUUID("account_id"),
                event.type(), event.occurredAt(), webhookId, event.detail()));
            return inserted.compose(v -> suppressIfNeeded(tx, event, row.getString("recipient"))).map(Outcome.RECORDED);
          });
    })).onSuccess(o -> { if (o == Outcome.RECORDED) EmailMetrics.providerEvent(event.type()); });
  }

  private static Future<Void> suppressIfNeeded(SqlConnection tx, ProviderEvent event, String recipient) {
    Optional<String> reason = event.suppressionReason();
    if (reason.isEmpty()) {
      return Future.succeededFuture();
    }
    return tx.preparedQuery(SUPPRESS).execute(Tuple.of(recipient, reason.get(), "webhook:" + event.type())).mapEmpty();
  }

  /** A provider event, normalised. */
  record ProviderEvent(String type, Optional<UUID> messageId, Optional<String> providerId, OffsetDateTime occurredAt,
                       JsonObject detail, boolean hardBounce) {
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
