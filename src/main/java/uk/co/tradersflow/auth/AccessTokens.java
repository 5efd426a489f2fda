package uk.co.tradersflow.auth;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.platform.crypto.ServerKeys;

/**
 * Mints and verifies the ES256 access tokens. Only ES256 with our key is accepted (so
 * {@code alg: none}, HS256 with the public key as secret, and foreign keys all fail), and
 * issuer, audience and expiry are checked.
 *
 * <p>Verifying an ECDSA signature costs far more than the rest of a typical request, so a
 * successfully verified token is remembered until it expires. That is safe because the cache
 * only answers "these exact bytes carry a valid signature": an altered token is a different key
 * and is verified afresh, and whether the session is still live is checked separately, on every
 * request, by {@link SessionStateCache}.
 */
public final class AccessTokens {
  static final String ISSUER = "tradersflow";
  static final String AUDIENCE = "tradersflow-api";

  private final JWTAuth jwt;
  private final Duration ttl;
  private final Clock clock;
  private final Cache<String, AccessClaims> verified;

  public AccessTokens(Vertx vertx, ServerKeys keys, Duration ttl, Clock clock) {
    this.jwt = JWTAuth.create(vertx, new JWTAuthOptions()
        .addPubSecKey(new PubSecKeyOptions().setAlgorithm("ES256").setId("tf-1").setBuffer(keys.jwtPrivatePem()))
        .addPubSecKey(new PubSecKeyOptions().setAlgorithm("ES256").setId("tf-1").setBuffer(keys.jwtPublicPem()))
        .setJWTOptions(new JWTOptions().setIssuer(ISSUER).addAudience(AUDIENCE).setLeeway(5)));
    this.ttl = ttl;
    this.clock = clock;
    this.verified = Caffeine.newBuilder()
        .maximumSize(200_000)
        .expireAfter(Expiry.<String, AccessClaims>creating(
            (token, claims) -> Duration.between(clock.instant(), claims.expiresAt()).isNegative()
                ? Duration.ZERO : Duration.between(clock.instant(), claims.expiresAt())))
        .build();
  }

  public String mint(UUID userId, UUID accountId, UUID sessionId, Optional<UUID> impersonatorId) {
    Instant now = clock.instant();
    JsonObject claims = new JsonObject()
        .put("sub", userId.toString())
        .put("acc", accountId.toString())
        .put("sid", sessionId.toString())
        .put("iat", now.getEpochSecond())
        // exp from the injected clock too: JWTOptions.setExpiresInSeconds reads the system clock.
        .put("exp", now.plus(ttl).getEpochSecond());
    impersonatorId.ifPresent(id -> claims.put("imp", id.toString()));
    return jwt.generateToken(claims, new JWTOptions().setAlgorithm("ES256").setIssuer(ISSUER)
        .addAudience(AUDIENCE).setNoTimestamp(true));
  }

  public Duration ttl() {
    return ttl;
  }

  public Future<AccessClaims> verify(String token) {
    AccessClaims cached = verified.getIfPresent(token);
    if (cached != null) {
      return cached.expiresAt().isAfter(clock.instant()) ? Future.succeededFuture(cached) : invalid();
    }
    if (token.length() > 4096 || token.chars().filter(c -> c == '.').count() != 2) {
      return invalid();
    }
    return jwt.authenticate(new TokenCredentials(token))
        .recover(e -> invalid())
        .compose(user -> {
          JsonObject p = user.attributes().getJsonObject("accessToken");
          try {
            if (!ISSUER.equals(p.getString("iss")) || !"ES256".equals(headerAlg(token))) {
              return invalid();
            }
            AccessClaims claims = new AccessClaims(
                UUID.fromString(p.getString("sub")),
                UUID.fromString(p.getString("acc")),
                UUID.fromString(p.getString("sid")),
                Optional.ofNullable(p.getString("imp")).map(UUID::fromString),
                Instant.ofEpochSecond(p.getLong("exp")));
            if (!claims.expiresAt().isAfter(clock.instant())) {
              return invalid();
            }
            verified.put(token, claims);
            return Future.succeededFuture(claims);
          } catch (RuntimeException e) {
            return invalid();
          }
        });
  }

  private static String headerAlg(String token) {
    String header = new String(java.util.Base64.getUrlDecoder().decode(token.substring(0, token.indexOf('.'))), StandardCharsets.UTF_8);
    return new JsonObject(header).getString("alg");
  }

  private static <T> Future<T> invalid() {
    return Future.failedFuture(AppError.of(ErrorCode.INVALID_TOKEN, "The access token is invalid or expired"));
  }
}
