package uk.co.tradersflow.email;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import uk.co.tradersflow.platform.crypto.HmacSha256;

/**
 * Standard Webhooks (svix) signature check: HMAC-SHA256 over {@code id.timestamp.body} with the
 * base64 key after {@code whsec_}; the header holds one or more space-separated {@code v1,<b64>}
 * signatures (key rotation), any of which may match; timestamps more than 300 s away from now,
 * in either direction, are refused. Comparison is constant-time.
 */
public final class StandardWebhookVerifier {
    public static final Duration TOLERANCE = Duration.ofSeconds(300);

    private final byte[] key;
    private final Clock clock;

    public StandardWebhookVerifier(String secret, Clock clock) {
        this.key = Base64.getDecoder().decode(secret.substring("whsec_".length()));
        this.clock = clock;
    }

    public boolean verify(String id, String timestamp, String signatures, byte[] body) {
        if (id == null || timestamp == null || signatures == null || id.isEmpty() || id.length() > 200) {
            return false;
        }
        long seconds;
        try {
            seconds = Long.parseLong(timestamp.trim());
        } catch (NumberFormatException e) {
            return false;
        }
        // Compared as numbers: a timestamp beyond Instant's range must be a refusal, not an exception.
        long now = clock.instant().getEpochSecond();
        if (seconds < now - TOLERANCE.toSeconds() || seconds > now + TOLERANCE.toSeconds()) {
            return false;
        }
        // Compared as canonical base64 text: decoding leniently would accept altered trailing bits.
        byte[] expected = Base64.getEncoder()
                .encodeToString(sign(id, timestamp.trim(), body))
                .getBytes(StandardCharsets.US_ASCII);
        boolean ok = false;
        for (String candidate : signatures.trim().split(" +")) {
            if (!candidate.startsWith("v1,")) {
                continue;
            }
            // Check every candidate (no early exit), so timing does not tell which one matched.
            ok |= MessageDigest.isEqual(expected, candidate.substring(3).getBytes(StandardCharsets.US_ASCII));
        }
        return ok;
    }

    public byte[] sign(String id, String timestamp, byte[] body) {
        return HmacSha256.of(key, (id + "." + timestamp + ".").getBytes(StandardCharsets.UTF_8), body);
    }
}
