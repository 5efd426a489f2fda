package uk.co.tradersflow.platform.bus;

import java.util.Optional;
import java.util.UUID;

/** A session, or every session of a user, stopped being valid. */
public record SessionRevoked(Optional<UUID> sessionId, Optional<UUID> userId) {
    public static SessionRevoked session(UUID id) {
        return new SessionRevoked(Optional.of(id), Optional.empty());
    }

    public static SessionRevoked user(UUID id) {
        return new SessionRevoked(Optional.empty(), Optional.of(id));
    }

    /** Wire form for Redis pub/sub: {@code s:<uuid>} or {@code u:<uuid>}. */
    public String encode() {
        return sessionId.map(id -> "s:" + id).orElseGet(() -> "u:" + userId.orElseThrow());
    }

    public static Optional<SessionRevoked> decode(String text) {
        try {
            UUID id = UUID.fromString(text.substring(2));
            return text.startsWith("s:")
                    ? Optional.of(session(id))
                    : text.startsWith("u:") ? Optional.of(user(id)) : Optional.empty();
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }
}
