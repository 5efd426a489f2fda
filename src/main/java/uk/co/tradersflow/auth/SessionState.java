package uk.co.tradersflow.auth;

import java.util.Optional;
import java.util.UUID;

/** What the database says about a session right now: is it live, and may its account act. */
public record SessionState(
        UUID sessionId,
        UUID userId,
        UUID accountId,
        boolean live,
        String accountStatus,
        String email,
        boolean emailVerified,
        Optional<UUID> impersonatorId) {

    public boolean accountActive() {
        return "active".equals(accountStatus);
    }

    public boolean accountSuspended() {
        return "suspended".equals(accountStatus);
    }
}
