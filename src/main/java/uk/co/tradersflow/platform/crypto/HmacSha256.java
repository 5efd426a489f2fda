package uk.co.tradersflow.platform.crypto;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * HMAC-SHA256: of the server's own signed values (a text), of what webhook senders signed (their
 * prefix and the raw body, never re-encoded), and purpose keys derived with it.
 */
public final class HmacSha256 {
    private HmacSha256() {}

    public static byte[] of(byte[] key, String text) {
        return of(key, text.getBytes(StandardCharsets.UTF_8));
    }

    /** Over the parts in order, as if they were one byte string. */
    public static byte[] of(byte[] key, byte[]... parts) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            for (byte[] part : parts) {
                mac.update(part);
            }
            return mac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }

    /** A key for one purpose alone, derived from a root key, so one purpose's MAC never verifies for another. */
    public static byte[] derive(byte[] root, String purpose) {
        return of(root, purpose);
    }
}
