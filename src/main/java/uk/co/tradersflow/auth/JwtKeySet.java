package uk.co.tradersflow.auth;

import io.vertx.core.json.JsonObject;
import java.math.BigInteger;
import java.security.InvalidKeyException;
import java.security.KeyPair;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.bouncycastle.crypto.params.ECPublicKeyParameters;
import org.bouncycastle.jcajce.provider.asymmetric.util.ECUtil;
import uk.co.tradersflow.platform.crypto.Es256Jws;
import uk.co.tradersflow.platform.crypto.Es256Signer;

/**
 * The access-token keys as a JWKS-style set: the current key signs, retired keys only verify.
 * Each key is named by its RFC 7638 thumbprint, which every token carries as {@code kid}, so a
 * key rotation needs no coordination: tokens signed before it still verify with the retired key
 * (kept in {@code TF_JWT_PREVIOUS_KEYS}) until they expire, and new ones use the new key.
 */
public final class JwtKeySet {
    private final KeyPair current;
    private final String currentKid;
    private final Map<String, ECPublicKeyParameters> verifying;

    public JwtKeySet(KeyPair current, List<PublicKey> previous) {
        this.current = current;
        this.currentKid = kid(current.getPublic());
        Map<String, ECPublicKeyParameters> keys = new LinkedHashMap<>();
        keys.put(currentKid, verifying(current.getPublic()));
        previous.forEach(k -> keys.putIfAbsent(kid(k), verifying(k)));
        this.verifying = Map.copyOf(keys);
    }

    /** A key in the form Bouncy Castle's verifier takes, made once (its curve point checked on the way). */
    private static ECPublicKeyParameters verifying(PublicKey key) {
        try {
            return (ECPublicKeyParameters) ECUtil.generatePublicKeyParameter(key);
        } catch (InvalidKeyException | ClassCastException e) {
            throw new IllegalStateException("an access-token key is not an EC public key", e);
        }
    }

    KeyPair current() {
        return current;
    }

    String currentKid() {
        return currentKid;
    }

    Optional<ECPublicKeyParameters> verifier(String kid) {
        return Optional.ofNullable(verifying.get(kid));
    }

    /** The key's RFC 7638 thumbprint, its {@code kid}: the same name the audit checkpoints' signatures use. */
    public static String kid(PublicKey key) {
        return Es256Jws.thumbprint(key);
    }

    private static JsonObject jwk(ECPublicKey key) {
        return new JsonObject()
                .put("kty", "EC")
                .put("crv", "P-256")
                .put("x", coordinate(key.getW().getAffineX()))
                .put("y", coordinate(key.getW().getAffineY()));
    }

    private static String coordinate(BigInteger value) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(Es256Signer.fixed32(value));
    }
}
