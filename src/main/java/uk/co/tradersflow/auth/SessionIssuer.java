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
    static final String REFRESH_PREFIX = "tfr_";

    public record Issued(UUID sessionId, String accessToken, String refreshToken) {}

    private final AccessTokens accessTokens;
    private final Duration refreshTtl;

    SessionIssuer(AccessTokens accessTokens, Duration refreshTtl) {
        this.accessTokens = accessTokens;
        this.refreshTtl = refreshTtl;
    }

    public Future<Issued> open(
            SqlConnection tx, UUID accountId, UUID userId, String userAgent, String ip, Optional<UUID> impersonator) {
        String refresh = SecretTokens.generate(REFRESH_PREFIX);
        return SignInRepository.insertSession(tx, accountId, userId, refreshTtl, userAgent, ip, impersonator)
                .compose(sessionId -> SignInRepository.insertRefreshToken(
                                tx, accountId, sessionId, SecretTokens.hash(refresh), refreshTtl)
                        .map(id -> new Issued(
                                sessionId, accessTokens.mint(userId, accountId, sessionId, impersonator), refresh)));
    }

    String accessFor(UUID userId, UUID accountId, UUID sessionId, Optional<UUID> impersonator) {
        return accessTokens.mint(userId, accountId, sessionId, impersonator);
    }

    Duration refreshTtl() {
        return refreshTtl;
    }

    Duration accessTtl() {
        return accessTokens.ttl();
    }
}
