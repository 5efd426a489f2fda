package uk.co.tradersflow.audit;

import io.vertx.core.json.JsonObject;
import java.util.Optional;
import java.util.UUID;
import uk.co.tradersflow.platform.http.ClientInfo;
import uk.co.tradersflow.platform.security.Actor;
import uk.co.tradersflow.platform.security.ActorType;
import uk.co.tradersflow.platform.security.Principal;

/**
 * One audited action: who (actor and, for support sign-ins, the impersonating owner), what,
 * against which account and object, from where. Build with {@link #byUser} or {@link #by}.
 */
public record AuditEntry(
        Optional<UUID> accountId,
        ActorType actorType,
        Optional<UUID> actorId,
        Optional<UUID> impersonatorId,
        String action,
        Optional<String> targetType,
        Optional<String> targetId,
        Optional<String> ip,
        Optional<String> userAgent,
        JsonObject details) {

    /** An action a signed-in user took in their own account (impersonation carried over). */
    public static AuditEntry byUser(Principal principal, ClientInfo.Client client, String action) {
        return by(Actor.of(principal), Optional.of(principal.accountId()), action)
                .from(client);
    }

    /** An action by {@code actor} concerning {@code accountId} (none for a server-wide action). */
    public static AuditEntry by(Actor actor, Optional<UUID> accountId, String action) {
        return new AuditEntry(
                accountId,
                actor.type(),
                actor.id(),
                actor.impersonatorId(),
                action,
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                new JsonObject());
    }

    /** An action by someone other than a signed-in user of the account: the system, Stripe, an owner ({@link #by(Actor, Optional, String)} in two parts). */
    public static AuditEntry by(ActorType type, Optional<UUID> actorId, Optional<UUID> accountId, String action) {
        return by(new Actor(type, actorId, Optional.empty()), accountId, action);
    }

    public AuditEntry target(String type, Object id) {
        return with(Optional.of(type), Optional.of(String.valueOf(id)), ip, userAgent, details);
    }

    public AuditEntry detail(String key, Object value) {
        return with(targetType, targetId, ip, userAgent, details.copy().put(key, value));
    }

    public AuditEntry from(ClientInfo.Client client) {
        return with(targetType, targetId, Optional.of(client.ip()), Optional.of(client.userAgent()), details);
    }

    /** A copy with what the builders above change; who acted, what they did and in which account stay. */
    private AuditEntry with(
            Optional<String> targetType,
            Optional<String> targetId,
            Optional<String> ip,
            Optional<String> userAgent,
            JsonObject details) {
        return new AuditEntry(
                accountId, actorType, actorId, impersonatorId, action, targetType, targetId, ip, userAgent, details);
    }
}
