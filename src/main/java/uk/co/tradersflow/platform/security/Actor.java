package uk.co.tradersflow.platform.security;

import java.util.Optional;
import java.util.UUID;

/**
 * Who performed an audited action: its kind, the user when there is one, and the owner behind
 * a support sign-in. The kind and the user travel together, so callers pass one value rather
 * than an {@link ActorType} and an {@code Optional<UUID>} side by side.
 */
public record Actor(ActorType type, Optional<UUID> id, Optional<UUID> impersonatorId) {
    /** The server itself: jobs, retention, operator commands. */
    public static final Actor SYSTEM = new Actor(ActorType.SYSTEM, Optional.empty(), Optional.empty());

    /** The signed-in user of a request (an impersonating owner carried over). */
    public static Actor of(Principal principal) {
        return new Actor(ActorType.USER, Optional.of(principal.userId()), principal.impersonatorId());
    }
}
