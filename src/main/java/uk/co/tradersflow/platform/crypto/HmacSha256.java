package uk.co.tradersflow.platform.crypto;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** HMAC-SHA256 of a text, and purpose keys derived with it, for the server's own signed values. */
public final class HmacSha256 {
  private HmacSha256() {}

  public static byte[] of(byte[] key, String text) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(text.getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 unavailable", e);
    }
  }

  /** A key for one purpose alone, derived from a root key, so one purpose's MAC never verifies for another. */
  public static byte[] derive(byte[] root, String purpose) {
    return of(root, purpose);
  }
}
