package uk.co.tradersflow.auth;

import io.vertx.core.Future;
import io.vertx.sqlclient.SqlConnection;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;

/**
 * Opens a session (one sign-in, one refresh-token family) and issues its first token pair,
 * inside the caller's account transaction, so the session exists only if the sign-in that
 * opened it commits. Every way of signing in (password, and later OAuth or an owner's support
 * link) opens its sessions here.
 */
public final class SessionIssuer {
    public record Issued(UUID sessionId, String accessToken, String refreshToken) {}

    private final AccessTokens accessTokens;
    private final RefreshTokens refreshTokens;
    private final Duration refreshTtl;

    SessionIssuer(AccessTokens accessTokens, RefreshTokens refreshTokens, Duration refreshTtl) {
        this.accessTokens = accessTokens;
        this.refreshTokens = refreshTokens;
        this.refreshTtl = refreshTtl;
    }

    public Future<Issued> open(
            SqlConnection tx, UUID accountId, UUID userId, String userAgent, String ip, Optional<UUID> impersonator) {
        // The session's first generation; the session's own expiry is its refresh tokens'.
        byte[] secret = RefreshTokens.newSecret();
        return SignInRepository.insertSession(
                        tx,
                        accountId,
                        userId,
                        refreshTtl,
                        userAgent,
                        ip,
                        impersonator,
                        RefreshTokens.secretHash(secret))
                .map(sessionId -> new Issued(
                        sessionId,
                        accessTokens.mint(userId, accountId, sessionId, impersonator),
                        refreshTokens.mint(sessionId, 0, secret)));
    }

    String accessFor(UUID userId, UUID accountId, UUID sessionId, Optional<UUID> impersonator) {
        return accessTokens.mint(userId, accountId, sessionId, impersonator);
    }

    /** The refresh token of {@code sessionId}, whose secret is {@code secret}, at {@code generation}. */
    String refreshFor(UUID sessionId, long generation, byte[] secret) {
        return refreshTokens.mint(sessionId, generation, secret);
    }

    RefreshTokens refreshTokens() {
        return refreshTokens;
    }

    Duration refreshTtl() {
        return refreshTtl;
    }

    Duration accessTtl() {
        return accessTokens.ttl();
    }
}
