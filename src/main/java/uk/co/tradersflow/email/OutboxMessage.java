package uk.co.tradersflow.email;

import io.vertx.core.json.JsonObject;
import java.util.UUID;

/**
 * An outbox row claimed for sending: {@code attempts} is how many sends of it have been tried
 * and counted so far, {@code claim} the number of this claim, which every outcome names.
 */
record OutboxMessage(UUID id, String template, String recipient, JsonObject model, int attempts, int claim) {}
