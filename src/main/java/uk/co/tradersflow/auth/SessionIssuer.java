package uk.co.tradersflow.auth;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.SqlConnection;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;

/** Opens a session (one sign-in, one refresh-token family) and issues its first token pair. */
final class SessionIssuer {
  static final String REFRESH_PREFIX = "tfr_";

  record Issued(UUID sessionId, String accessToken, String refreshToken) {
    JsonObject toJson(Duration accessTtl) {
      return new JsonObject().put("accessToken", accessToken).put("refreshToken", refreshToken).put("tokenType", "Bearer")
          .put("expiresIn", accessTtl.toSeconds());
    }
  }

  private final AccessTokens accessTokens;
  private final Duration refreshTtl;

  SessionIssuer(AccessTokens accessTokens, Duration refreshTtl) {
    this.accessTokens = accessTokens;
    this.refreshTtl = refreshTtl;
  }

  Future<Issued> open(SqlConnection tx, UUID accountId, UUID userId, String userAgent, String ip, Optional<UUID> impersonator) {
    String refresh = SecretTokens.generate(REFRESH_PREFIX);
    return SignInRepository.insertSession(tx, accountId, userId, refreshTtl, userAgent, ip, impersonator)
        .compose(sessionId -> SignInRepository.insertRefreshToken(tx, accountId, sessionId, SecretTokens.hash(refresh), refreshTtl)
            .map(id -> new Issued(sessionId, accessTokens.mint(userId, accountId, sessionId, impersonator), refresh)));
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
