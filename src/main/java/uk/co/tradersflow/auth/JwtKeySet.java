package uk.co.tradersflow.auth;

import io.vertx.core.json.JsonObject;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The access-token keys as a JWKS-style set: the current key signs, retired keys only verify.
 * Each key is named by its RFC 7638 thumbprint, which every token carries as {@code kid}, so a
 * key rotation needs no coordination: tokens signed before it still verify with the retired key
 * (kept in {@code TF_JWT_PREVIOUS_KEYS}) until they expire, and new ones use the new key.
 */
public final class JwtKeySet {
    private final KeyPair current;
    private final String currentKid;
    private final Map<String, ECPublicKey> verifying;

    public JwtKeySet(KeyPair current, List<PublicKey> previous) {
        this.current = current;
        this.currentKid = kid(current.getPublic());
        Map<String, ECPublicKey> keys = new LinkedHashMap<>();
        keys.put(currentKid, (ECPublicKey) current.getPublic());
        previous.forEach(k -> keys.putIfAbsent(kid(k), (ECPublicKey) k));
        this.verifying = Map.copyOf(keys);
    }

    KeyPair current() {
        return current;
    }

    String currentKid() {
        return currentKid;
    }

    Optional<ECPublicKey> verifier(String kid) {
        return Optional.ofNullable(verifying.get(kid));
    }

    /** RFC 7638 thumbprint: SHA-256 of the required members in lexicographic order, base64url. */
    public static String kid(PublicKey key) {
        JsonObject jwk = jwk((ECPublicKey) key);
        String canonical = "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"" + jwk.getString("x") + "\",\"y\":\""
                + jwk.getString("y") + "\"}";
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(canonical.getBytes(StandardCharsets.US_ASCII));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static JsonObject jwk(ECPublicKey key) {
        return new JsonObject()
                .put("kty", "EC")
                .put("crv", "P-256")
                .put("x", coordinate(key.getW().getAffineX()))
                .put("y", coordinate(key.getW().getAffineY()));
    }

    private static String coordinate(BigInteger value) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(AccessTokens.fixed32(value));
    }
}
