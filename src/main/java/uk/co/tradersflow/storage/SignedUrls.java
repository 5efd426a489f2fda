package uk.co.tradersflow.storage;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.UUID;
import uk.co.tradersflow.platform.crypto.HmacSha256;

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
        // A key for this purpose alone, derived from TF_URL_SIGNING_KEY (device tokens derive their own).
        this.key = HmacSha256.derive(urlSigningKey, "tradersflow signed file urls v1");
        this.clock = clock;
    }

    public String signature(UUID documentId, UUID accountId, Instant expiresAt, int epoch) {
        return Base64.getUrlEncoder()
                .withoutPadding()
                .encodeToString(mac(payload(documentId, accountId, expiresAt, epoch)));
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
        return MessageDigest.isEqual(
                expected.getBytes(StandardCharsets.US_ASCII), signature.getBytes(StandardCharsets.US_ASCII));
    }

    private static String payload(UUID documentId, UUID accountId, Instant expiresAt, int epoch) {
        return "tf-file-v1|" + documentId + "|" + accountId + "|" + expiresAt.getEpochSecond() + "|" + epoch;
    }

    private byte[] mac(String payload) {
        return HmacSha256.of(key, payload);
    }
}
