package uk.co.tradersflow.auth;

import java.time.Instant;
import java.util.Optional;
import java.util.UUID;

/** What a verified access token says: who, which account, which session, until when. */
public record AccessClaims(
        UUID userId, UUID accountId, UUID sessionId, Optional<UUID> impersonatorId, Instant expiresAt) {}
