package uk.co.tradersflow.storage;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.UUID;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Envelope encryption: every file has its own random 256-bit data key, stored only wrapped
 * (AES-256-GCM) by the master key {@code TF_DATA_KEY} and bound to the document id. Rotating the
 * master key means re-wrapping these small keys, not re-encrypting files; destroying a wrapped
 * key makes its file unreadable at once (crypto-shredding).
 */
public final class EnvelopeKeys {
  /** Names the master key that wrapped a data key, so several can coexist during rotation. */
  public static final String KEY_ID = "k1";
  private static final SecureRandom RANDOM = new SecureRandom();

  private final SecretKeySpec master;

  public EnvelopeKeys(byte[] masterKey) {
    if (masterKey.length != 32) {
      throw new IllegalArgumentException("the master key must be 32 bytes");
    }
    this.master = new SecretKeySpec(masterKey, "AES");
  }

  public static byte[] newDataKey() {
    byte[] key = new byte[32];
    RANDOM.nextBytes(key);
    return key;
  }

  public byte[] wrap(byte[] dataKey, UUID documentId) {
    try {
      byte[] nonce = new byte[12];
      RANDOM.nextBytes(nonce);
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(Cipher.ENCRYPT_MODE, master, new GCMParameterSpec(128, nonce));
      cipher.updateAAD(aad(documentId));
      byte[] sealed = cipher.doFinal(dataKey);
      return ByteBuffer.allocate(12 + sealed.length).put(nonce).put(sealed).array();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM is not available", e);
    }
  }

  public byte[] unwrap(byte[] wrapped, UUID documentId) {
    try {
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(Cipher.DECRYPT_MODE, master, new GCMParameterSpec(128, Arrays.copyOf(wrapped, 12)));
      cipher.updateAAD(aad(documentId));
      return cipher.doFinal(wrapped, 12, wrapped.length - 12);
    } catch (javax.crypto.AEADBadTagException e) {
      throw new ChunkedAead.TamperedFileException("the wrapped key does not open with this master key for this document");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM is not available", e);
    }
  }

  private static byte[] aad(UUID documentId) {
    return ("tradersflow document key " + KEY_ID + " " + documentId).getBytes(StandardCharsets.UTF_8);
  }
}
