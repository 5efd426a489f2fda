package uk.co.tradersflow.storage;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.UUID;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Signed file URLs: HMAC-SHA256 over the document, its account, the expiry and the account's
 * file URL epoch. A URL stops working when it expires, when any part of it is altered, or at once
 * when the epoch moves (sign-out everywhere, account closure): unlike a plain pre-signed URL it
 * can be revoked before it expires.
 */
public final class SignedUrls {
  public record Claims(UUID documentId, UUID accountId, Instant expiresAt) {}

  private final byte[] key;
  private final Clock clock;

  public SignedUrls(byte[] urlSigningKey, Clock clock) {
    this.key = derive(urlSigningKey);
    this.clock = clock;
  }

  public String signature(UUID documentId, UUID accountId, Instant expiresAt, int epoch) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(mac(payload(documentId, accountId, expiresAt, epoch)));
  }

  /** True when the signature matches these exact values, the epoch is current and it has not expired. */
  public boolean valid(UUID documentId, UUID accountId, Instant expiresAt, int currentEpoch, String signature) {
    if (signature == null || !expiresAt.isAfter(clock.instant())) {
      return false;
    }
    // Compare the canonical text, not decoded bytes: the last base64 character of a 32-byte MAC
    // carries two unused bits, so a lenient decoder maps several strings to the same bytes and
    // an altered URL would pass.
    String expected = signature(documentId, accountId, expiresAt, currentEpoch);
    return MessageDigest.isEqual(expected.getBytes(StandardCharsets.US_ASCII), signature.getBytes(StandardCharsets.US_ASCII));
  }

  private static String payload(UUID documentId, UUID accountId, Instant expiresAt, int epoch) {
    return "tf-file-v1|" + documentId + "|" + accountId + "|" + expiresAt.getEpochSecond() + "|" + epoch;
  }

  private byte[] mac(String payload) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(payload.getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A key for this purpose alone, derived from TF_URL_SIGNING_KEY (device tokens derive their own). */
  private static byte[] derive(byte[] root) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(root, "HmacSHA256"));
      return mac.doFinal("tradersflow signed file urls v1".getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
