package uk.co.tradersflow.email;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.metrics.SecurityEvents;

/**
 * The email provider's delivery events. The signature over the raw body is checked before
 * anything is parsed or stored; a redelivered webhook id changes nothing; hard bounces,
 * complaints and unsubscribes put the address on the suppression list.
 */
public final class EmailWebhookService {
    private static final Logger log = LoggerFactory.getLogger(EmailWebhookService.class);
    private static final Set<String> TYPES = Set.of(
            "sent",
            "delivered",
            "delivery_delayed",
            "opened",
            "clicked",
            "bounced",
            "complained",
            "unsubscribed",
            "failed");

    /** A delivery as received: the Standard Webhooks headers and the raw body they sign. */
    public record Delivery(String id, String timestamp, String signature, byte[] body) {}

    /** What became of a signed delivery: not an event we track, a webhook id seen before, or taken in. */
    public record Receipt(boolean ignored, boolean duplicate) {
        public JsonObject toJson() {
            JsonObject json = new JsonObject().put("received", true);
            return ignored ? json.put("ignored", true) : json.put("duplicate", duplicate);
        }
    }

    /** What recording a signed event came to. */
    enum Outcome {
        RECORDED,
        DUPLICATE,
        UNKNOWN_MESSAGE
    }

    private final Optional<StandardWebhookVerifier> verifier;
    private final Db db;
    private final EmailEventStore events = new EmailEventStore();

    public EmailWebhookService(Optional<String> secret, Db db, Clock clock) {
        this.verifier = secret.map(s -> new StandardWebhookVerifier(s, clock));
        this.db = db;
    }

    /** Fails with {@code WEBHOOK_NOT_CONFIGURED} without a secret, {@code INVALID_SIGNATURE} for a bad one. */
    public Future<Receipt> receive(Delivery delivery) {
        if (verifier.isEmpty()) {
            return Future.failedFuture(
                    AppError.of(ErrorCode.WEBHOOK_NOT_CONFIGURED, "Email webhooks are not configured on this server"));
        }
        if (!verifier.get().verify(delivery.id(), delivery.timestamp(), delivery.signature(), delivery.body())) {
            SecurityEvents.record(SecurityEvents.Event.WEBHOOK_REJECTED);
            return Future.failedFuture(
                    AppError.of(ErrorCode.INVALID_SIGNATURE, "The webhook signature is missing, invalid or too old"));
        }
        Optional<EmailEventStore.ProviderEvent> event = parse(delivery.body());
        if (event.isEmpty()) {
            // Signed by the provider but not an event we track: acknowledge, or it is redelivered forever.
            return Future.succeededFuture(new Receipt(true, false));
        }
        return record(delivery.id(), event.get()).map(outcome -> {
            if (outcome == Outcome.UNKNOWN_MESSAGE) {
                log.info(
                        "email webhook {} ({}) names no message of ours",
                        delivery.id(),
                        event.get().type());
            }
            return new Receipt(false, outcome == Outcome.DUPLICATE);
        });
    }

    /** All in one transaction: the receipt, the event and any suppression commit together or not at all. */
    Future<Outcome> record(String webhookId, EmailEventStore.ProviderEvent event) {
        return db.asWorker(tx -> events.firstReceipt(tx, webhookId).compose(first -> {
                    if (!first) {
                        return Future.succeededFuture(Outcome.DUPLICATE);
                    }
                    return events.findMessage(tx, event).compose(found -> {
                        if (found.isEmpty()) {
                            return Future.succeededFuture(Outcome.UNKNOWN_MESSAGE);
                        }
                        EmailEventStore.Message message = found.get();
                        Optional<String> suppression = event.suppressionReason();
                        return events.insertEvent(tx, message, event, webhookId)
                                .compose(v -> suppression.isEmpty()
                                        ? Future.<Void>succeededFuture()
                                        : events.suppress(
                                                tx, message.recipient(), suppression.get(), "webhook:" + event.type()))
                                .map(Outcome.RECORDED);
                    });
                }))
                .onSuccess(o -> {
                    if (o == Outcome.RECORDED) {
                        EmailMetrics.providerEvent(event.type());
                    }
                });
    }

    static Optional<EmailEventStore.ProviderEvent> parse(byte[] body) {
        try {
            JsonObject json = new JsonObject(Buffer.buffer(body));
            String type = String.valueOf(json.getString("type"))
                    .toLowerCase(Locale.ROOT)
                    .replaceFirst("^email\\.", "");
            if (!TYPES.contains(type)) {
                return Optional.empty();
            }
            JsonObject data = json.getJsonObject("data", new JsonObject());
            OffsetDateTime at = Optional.ofNullable(json.getString("created_at"))
                    .map(OffsetDateTime::parse)
                    .orElse(OffsetDateTime.now(ZoneOffset.UTC));
            JsonObject bounce = data.getJsonObject("bounce", new JsonObject());
            String bounceType =
                    String.valueOf(bounce.getString("type", "permanent")).toLowerCase(Locale.ROOT);
            boolean hard = !(bounceType.startsWith("transient")
                    || bounceType.startsWith("soft")
                    || bounceType.startsWith("undetermined"));
            JsonObject detail =
                    new JsonObject().put("to", data.getValue("to")).put("bounce", bounce.isEmpty() ? null : bounce);
            return Optional.of(new EmailEventStore.ProviderEvent(
                    type,
                    messageTag(data.getValue("tags")),
                    Optional.ofNullable(data.getString("email_id")),
                    at,
                    detail,
                    hard));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    /** {@code tags} is an object ({@code {tf_message_id: …}}) or a list of {@code {name, value}}. */
    private static Optional<UUID> messageTag(Object tags) {
        String value = null;
        if (tags instanceof JsonObject object) {
            value = object.getString("tf_message_id");
        } else if (tags instanceof JsonArray array) {
            for (Object tag : array) {
                if (tag instanceof JsonObject t && "tf_message_id".equals(t.getString("name"))) {
                    value = t.getString("value");
                }
            }
        }
        try {
            return Optional.ofNullable(value).map(UUID::fromString);
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }
}
