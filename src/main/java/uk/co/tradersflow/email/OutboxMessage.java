package uk.co.tradersflow.email;

import io.vertx.core.json.JsonObject;
import java.util.UUID;

/** An outbox row claimed for sending. */
record OutboxMessage(UUID id, String template, String recipient, JsonObject model, int attempts) {}
