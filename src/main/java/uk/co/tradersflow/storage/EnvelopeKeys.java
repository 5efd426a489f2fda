package uk.co.tradersflow.storage;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import uk.co.tradersflow.platform.crypto.HmacSha256;

/**
 * Envelope encryption: every file has its own random 256-bit data key, stored only wrapped
 * (AES-256-GCM) by a master key and bound to the document id. Destroying a wrapped key makes its
 * file unreadable at once (crypto-shredding).
 *
 * <p>Master keys rotate without touching files: {@code TF_DATA_KEY} is the current key (new files
 * and re-wrapping use it), {@code TF_DATA_KEY_PREVIOUS} lists keys still accepted for unwrapping.
 * Each wrapped key is stored with the id of its master key, a fingerprint of that key, so the
 * right one is found and {@link DataKeyRotationVerticle} can find keys still under an old one.
 */
public final class EnvelopeKeys {
    private static final SecureRandom RANDOM = new SecureRandom();

    private final String currentId;
    private final Map<String, SecretKeySpec> masters = new LinkedHashMap<>();
    private final Set<String> previousIds;

    public EnvelopeKeys(byte[] currentMasterKey) {
        this(currentMasterKey, List.of());
    }

    public EnvelopeKeys(byte[] currentMasterKey, List<byte[]> previousMasterKeys) {
        this.currentId = add(currentMasterKey);
        previousMasterKeys.forEach(this::add);
        Set<String> previous = new java.util.LinkedHashSet<>(masters.keySet());
        previous.remove(currentId);
        this.previousIds = java.util.Collections.unmodifiableSet(previous);
    }

    private String add(byte[] masterKey) {
        if (masterKey.length != 32) {
            throw new IllegalArgumentException("a master key must be 32 bytes");
        }
        String id = keyId(masterKey);
        masters.putIfAbsent(id, new SecretKeySpec(masterKey, "AES"));
        return id;
    }

    /** "k" and 8 hex digits of an HMAC of the key: names it in the database without revealing it. */
    static String keyId(byte[] masterKey) {
        return "k" + HexFormat.of().formatHex(HmacSha256.of(masterKey, "tradersflow master key id"), 0, 4);
    }

    public static byte[] newDataKey() {
        byte[] key = new byte[32];
        RANDOM.nextBytes(key);
        return key;
    }

    /** The id stored beside every key wrapped now. */
    public String currentKeyId() {
        return currentId;
    }

    /** Ids of the configured master keys other than the current one. */
    public Set<String> previousKeyIds() {
        return previousIds;
    }

    /** Wraps under the current master key; store the result with {@link #currentKeyId()}. */
    public byte[] wrap(byte[] dataKey, UUID documentId) {
        try {
            byte[] nonce = new byte[12];
            RANDOM.nextBytes(nonce);
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.ENCRYPT_MODE, masters.get(currentId), new GCMParameterSpec(128, nonce));
            cipher.updateAAD(aad(currentId, documentId));
            byte[] sealed = cipher.doFinal(dataKey);
            return ByteBuffer.allocate(12 + sealed.length)
                    .put(nonce)
                    .put(sealed)
                    .array();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is not available", e);
        }
    }

    public byte[] unwrap(String keyId, byte[] wrapped, UUID documentId) {
        SecretKeySpec master = masters.get(keyId);
        if (master == null) {
            throw new IllegalStateException(
                    "master key " + keyId + " is not configured (TF_DATA_KEY, TF_DATA_KEY_PREVIOUS)");
        }
        try {
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.DECRYPT_MODE, master, new GCMParameterSpec(128, Arrays.copyOf(wrapped, 12)));
            cipher.updateAAD(aad(keyId, documentId));
            return cipher.doFinal(wrapped, 12, wrapped.length - 12);
        } catch (javax.crypto.AEADBadTagException e) {
            throw new ChunkedAead.TamperedFileException(
                    "the wrapped key does not open with master key " + keyId + " for this document");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is not available", e);
        }
    }

    /** The same data key, wrapped under the current master key instead of {@code keyId}. */
    public byte[] rewrap(String keyId, byte[] wrapped, UUID documentId) {
        byte[] dataKey = unwrap(keyId, wrapped, documentId);
        try {
            return wrap(dataKey, documentId);
        } finally {
            Arrays.fill(dataKey, (byte) 0);
        }
    }

    private static byte[] aad(String keyId, UUID documentId) {
        return ("tradersflow document key " + keyId + " " + documentId).getBytes(StandardCharsets.UTF_8);
    }
}
