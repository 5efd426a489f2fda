package uk.co.tradersflow.platform.crypto;

import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PublicKey;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Compact JWS (RFC 7515) signed with ES256 by one EC P-256 key and verified against a set of
 * public keys, each named by its RFC 7638 thumbprint as {@code kid}: the current key signs, keys
 * retired from signing still verify. Used for documents the server signs to be checked later and
 * elsewhere (the audit chain's checkpoints), with the same key material as its access tokens.
 */
public final class Es256Jws {
    private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();
    private static final Base64.Decoder DECODER = Base64.getUrlDecoder();

    private final Es256Signer signer;
    private final String signingKid;
    private final Map<String, PublicKey> verifying;
    private final String type;

    /** {@code type} is the header's {@code typ}: a verified document must carry the same, so a token cannot pass for one. */
    public Es256Jws(KeyPair signing, List<PublicKey> retired, String type) {
        this.signer = Es256Signer.of(signing);
        this.signingKid = thumbprint(signing.getPublic());
        Map<String, PublicKey> keys = new LinkedHashMap<>();
        keys.put(signingKid, signing.getPublic());
        retired.forEach(k -> keys.putIfAbsent(thumbprint(k), k));
        this.verifying = Map.copyOf(keys);
        this.type = type;
    }

    /** The signing key's thumbprint. */
    public String kid() {
        return signingKid;
    }

    public String sign(JsonObject payload) {
        JsonObject header =
                new JsonObject().put("alg", "ES256").put("typ", type).put("kid", signingKid);
        String input = encode(header.encode()) + "." + encode(payload.encode());
        return input + "." + ENCODER.encodeToString(signer.sign(input.getBytes(StandardCharsets.US_ASCII)));
    }

    /**
     * The payload of {@code jws} when it is a compact ES256 JWS of this type whose signature holds
     * under the key its {@code kid} names (current or retired); empty for anything else.
     */
    public Optional<JsonObject> verify(String jws) {
        try {
            String[] parts = jws.split("\\.", -1);
            if (parts.length != 3) {
                return Optional.empty();
            }
            JsonObject header = new JsonObject(new String(DECODER.decode(parts[0]), StandardCharsets.UTF_8));
            if (!"ES256".equals(header.getValue("alg"))
                    || !type.equals(header.getValue("typ"))
                    || header.containsKey("crit")
                    || !(header.getValue("kid") instanceof String kid)) {
                return Optional.empty();
            }
            PublicKey key = verifying.get(kid);
            if (key == null) {
                return Optional.empty();
            }
            Signature verifier = Signature.getInstance(Es256Signer.ALGORITHM);
            verifier.initVerify(key);
            verifier.update((parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII));
            if (!verifier.verify(DECODER.decode(parts[2]))) {
                return Optional.empty();
            }
            return Optional.of(new JsonObject(new String(DECODER.decode(parts[1]), StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException | RuntimeException e) {
            // Malformed base64, JSON or signature encoding: not a document we signed.
            return Optional.empty();
        }
    }

    /** RFC 7638 thumbprint of an EC P-256 public key: SHA-256 of its required members in order, base64url. */
    public static String thumbprint(PublicKey key) {
        ECPublicKey ec = (ECPublicKey) key;
        String canonical = "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\""
                + ENCODER.encodeToString(Es256Signer.fixed32(ec.getW().getAffineX())) + "\",\"y\":\""
                + ENCODER.encodeToString(Es256Signer.fixed32(ec.getW().getAffineY())) + "\"}";
        return ENCODER.encodeToString(Sha256.of(canonical));
    }

    private static String encode(String json) {
        return ENCODER.encodeToString(json.getBytes(StandardCharsets.UTF_8));
    }
}
