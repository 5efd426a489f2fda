package uk.co.tradersflow.auth;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;
import org.bouncycastle.crypto.params.ECPublicKeyParameters;
import org.bouncycastle.crypto.signers.ECDSASigner;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.platform.crypto.Es256Signer;
import uk.co.tradersflow.platform.crypto.ServerKeys;
import uk.co.tradersflow.platform.crypto.Sha256;

/**
 * Mints and verifies the ES256 access tokens. Exactly one spelling of a token is accepted:
 * three unpadded base64url parts whose unused trailing bits are zero, a {@code kid} naming one of
 * our keys ({@link JwtKeySet}), a 64-byte signature with a low S (ECDSA's {@code (r, s)} and
 * {@code (r, n - s)} both verify, so minting always picks the low one and the high one is refused).
 * Only ES256 is accepted (so {@code alg: none}, HS256 with the public key as secret, and foreign
 * keys all fail), and issuer, audience and expiry are checked.
 *
 * <p>Verifying an ECDSA signature costs far more than the rest of a typical request, so a
 * successfully verified token is remembered until it expires. That is safe because the cache
 * only answers "these exact characters carry a valid signature": since only one spelling verifies,
 * a token cannot gain a second cache entry or a second identity (a deny-list keyed on the token
 * sees every copy), and whether the session is still live is checked separately, on every
 * request, by {@link SessionStateCache}.
 */
public final class AccessTokens {
    static final String ISSUER = "tradersflow";
    static final String AUDIENCE = "tradersflow-api";
    private static final Pattern BASE64URL = Pattern.compile("[A-Za-z0-9_-]+");
    private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();
    /** Leeway for a clock a little ahead of ours on {@code nbf}; expiry is checked without one. */
    private static final long NOT_BEFORE_LEEWAY_SECONDS = 5;

    private final JwtKeySet keys;
    private final Es256Signer signer;
    private final Duration ttl;
    private final Clock clock;
    private final Cache<String, AccessClaims> verified;

    public AccessTokens(ServerKeys serverKeys, Duration ttl, Clock clock) {
        this.keys = new JwtKeySet(serverKeys.jwtKeyPair(), serverKeys.jwtPreviousKeys());
        this.signer = Es256Signer.of(keys.current());
        this.ttl = ttl;
        this.clock = clock;
        this.verified = Caffeine.newBuilder()
                .maximumSize(200_000)
                .expireAfter(Expiry.<String, AccessClaims>creating((token, claims) ->
                        Duration.between(clock.instant(), claims.expiresAt()).isNegative()
                                ? Duration.ZERO
                                : Duration.between(clock.instant(), claims.expiresAt())))
                .build();
    }

    public String mint(UUID userId, UUID accountId, UUID sessionId, Optional<UUID> impersonatorId) {
        Instant now = clock.instant();
        JsonObject claims = new JsonObject()
                .put("iss", ISSUER)
                .put("aud", AUDIENCE)
                .put("sub", userId.toString())
                .put("acc", accountId.toString())
                .put("sid", sessionId.toString())
                .put("iat", now.getEpochSecond())
                .put("exp", now.plus(ttl).getEpochSecond());
        impersonatorId.ifPresent(id -> claims.put("imp", id.toString()));
        JsonObject header =
                new JsonObject().put("alg", "ES256").put("typ", "JWT").put("kid", keys.currentKid());
        String input = encode(header) + "." + encode(claims);
        return input + "." + ENCODER.encodeToString(signer.sign(input.getBytes(StandardCharsets.US_ASCII)));
    }

    /** Which library signs the tokens (for the start-up log). */
    public String signedBy() {
        return signer.implementation();
    }

    public Duration ttl() {
        return ttl;
    }

    public Future<AccessClaims> verify(String token) {
        AccessClaims cached = verified.getIfPresent(token);
        if (cached != null) {
            return cached.expiresAt().isAfter(clock.instant()) ? Future.succeededFuture(cached) : invalid();
        }
        if (token.length() > 4096) {
            return invalid();
        }
        try {
            AccessClaims claims = check(token);
            verified.put(token, claims);
            return Future.succeededFuture(claims);
        } catch (InvalidToken
                | IllegalArgumentException
                | ClassCastException
                | NullPointerException
                | io.vertx.core.json.DecodeException e) {
            return invalid();
        }
    }

    private AccessClaims check(String token) {
        String[] parts = token.split("\\.", -1);
        if (parts.length != 3) {
            throw new InvalidToken();
        }
        byte[] headerBytes = canonicalDecode(parts[0]);
        byte[] payloadBytes = canonicalDecode(parts[1]);
        byte[] signature = canonicalDecode(parts[2]);
        JsonObject header = new JsonObject(new String(headerBytes, StandardCharsets.UTF_8));
        if (!"ES256".equals(header.getValue("alg"))
                || header.containsKey("crit")
                || header.containsKey("typ") && !"JWT".equals(header.getValue("typ"))
                || !(header.getValue("kid") instanceof String kid)) {
            throw new InvalidToken();
        }
        ECPublicKeyParameters key = keys.verifier(kid).orElseThrow(InvalidToken::new);
        if (signature.length != 64
                || !canonicalSignature(signature, key.getParameters().getN())
                || !verifies((parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII), signature, key)) {
            throw new InvalidToken();
        }
        JsonObject p = new JsonObject(new String(payloadBytes, StandardCharsets.UTF_8));
        Object aud = p.getValue("aud");
        boolean audienceOk = AUDIENCE.equals(aud) || aud instanceof JsonArray list && list.contains(AUDIENCE);
        long now = clock.instant().getEpochSecond();
        if (!ISSUER.equals(p.getValue("iss"))
                || !audienceOk
                || !(p.getValue("exp") instanceof Number exp)
                || p.getValue("nbf") instanceof Number nbf && nbf.longValue() > now + NOT_BEFORE_LEEWAY_SECONDS
                || p.containsKey("nbf") && !(p.getValue("nbf") instanceof Number)) {
            throw new InvalidToken();
        }
        AccessClaims claims = new AccessClaims(
                UUID.fromString(p.getString("sub")),
                UUID.fromString(p.getString("acc")),
                UUID.fromString(p.getString("sid")),
                Optional.ofNullable(p.getString("imp")).map(UUID::fromString),
                Instant.ofEpochSecond(exp.longValue()));
        if (!claims.expiresAt().isAfter(clock.instant())) {
            throw new InvalidToken();
        }
        return claims;
    }

    /**
     * The bytes of an unpadded base64url part, only if that part is the one canonical spelling of
     * them: padding, other alphabets, and last characters differing only in the unused low bits
     * (which a lenient decoder maps to the same bytes) are all refused.
     */
    private static byte[] canonicalDecode(String part) {
        if (!BASE64URL.matcher(part).matches()) {
            throw new InvalidToken();
        }
        byte[] bytes = Base64.getUrlDecoder().decode(part);
        if (!ENCODER.encodeToString(bytes).equals(part)) {
            throw new InvalidToken();
        }
        return bytes;
    }

    /** r and s in [1, n-1] and s at most n/2 (the "low S" form). */
    private static boolean canonicalSignature(byte[] signature, BigInteger n) {
        BigInteger r = new BigInteger(1, signature, 0, 32);
        BigInteger s = new BigInteger(1, signature, 32, 32);
        return r.signum() > 0 && r.compareTo(n) < 0 && s.signum() > 0 && s.compareTo(n.shiftRight(1)) <= 0;
    }

    /**
     * ES256: whether {@code signature} (r and s, 32 bytes each) is {@code key}'s over {@code input}.
     * Bouncy Castle's verifier, on every platform (minting signs through {@link Es256Signer}, AWS-LC
     * where it loads, and its signatures are plain ES256): the JDK 17 provider took about 1 ms of
     * CPU per verification here, against 0.08 ms, and a verification runs on the event loop for
     * every token an instance has not seen, forged ones included (they are never cached), so a
     * stream of well-formed forgeries cost the server a millisecond each (load-tests/README.md).
     */
    private static boolean verifies(byte[] input, byte[] signature, ECPublicKeyParameters key) {
        ECDSASigner verifier = new ECDSASigner();
        verifier.init(false, key);
        return verifier.verifySignature(
                Sha256.of(input), new BigInteger(1, signature, 0, 32), new BigInteger(1, signature, 32, 32));
    }

    private static String encode(JsonObject json) {
        return ENCODER.encodeToString(json.encode().getBytes(StandardCharsets.UTF_8));
    }

    private static <T> Future<T> invalid() {
        return Future.failedFuture(AppError.of(ErrorCode.INVALID_TOKEN, "The access token is invalid or expired"));
    }

    /** Any flaw in a token; its kind is not told to the client, so it carries no message or trace. */
    private static final class InvalidToken extends RuntimeException {
        InvalidToken() {
            super(null, null, false, false);
        }
    }
}
