package uk.co.tradersflow.email;

import io.vertx.core.json.JsonObject;
import java.util.Optional;
import java.util.UUID;

/**
 * An email to queue: which template, to whom, with what model, about which account. The
 * {@code dedupeKey} names the logical email (e.g. {@code verify:<userId>:<tokenId>}): queueing
 * the same key twice sends once.
 */
public record OutgoingEmail(
        String template,
        String recipient,
        String locale,
        JsonObject model,
        String dedupeKey,
        Optional<UUID> accountId) {

    public static OutgoingEmail of(
            String template, String recipient, JsonObject model, String dedupeKey, UUID accountId) {
        return new OutgoingEmail(template, recipient, "en-GB", model, dedupeKey, Optional.of(accountId));
    }
}
