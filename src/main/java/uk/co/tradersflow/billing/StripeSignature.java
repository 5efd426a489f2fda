package uk.co.tradersflow.billing;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import uk.co.tradersflow.platform.crypto.HmacSha256;

/**
 * Checks a {@code Stripe-Signature} header ({@code t=<unix>,v1=<hex>[,v1=…]}) exactly as Stripe
 * signs: HMAC-SHA256, keyed with the whole {@code whsec_…} string, over {@code "<t>.<raw body>"}.
 * Every configured secret is tried (rotation, and the Connect endpoint's own secret); digests
 * are compared in constant time; the timestamp must lie within the tolerance on BOTH sides of
 * now (stripe-java's own check only rejects old ones). Nothing here parses the body.
 */
public final class StripeSignature {
    /** Why a delivery was refused; also the {@code reason} tag of the rejection counter. */
    public enum Rejection {
        MISSING,
        MALFORMED,
        MISMATCH,
        STALE,
        FUTURE
    }

    private final List<byte[]> secrets;
    private final Clock clock;
    private final Duration tolerance;

    public StripeSignature(List<String> secrets, Clock clock, Duration tolerance) {
        this.secrets =
                secrets.stream().map(s -> s.getBytes(StandardCharsets.UTF_8)).toList();
        this.clock = clock;
        this.tolerance = tolerance;
    }

    /** Empty when the body is authentic and fresh; otherwise why not. */
    public Optional<Rejection> check(String header, byte[] body) {
        if (header == null || header.isBlank()) {
            return Optional.of(Rejection.MISSING);
        }
        Long timestamp = null;
        List<byte[]> signatures = new ArrayList<>();
        for (String part : header.split(",")) {
            int eq = part.indexOf('=');
            if (eq <= 0) {
                continue;
            }
            String key = part.substring(0, eq).trim();
            String value = part.substring(eq + 1).trim();
            try {
                if (key.equals("t") && timestamp == null) {
                    timestamp = Long.parseLong(value);
                } else if (key.equals("v1") && value.length() == 64) {
                    signatures.add(HexFormat.of().parseHex(value));
                }
            } catch (IllegalArgumentException e) {
                return Optional.of(Rejection.MALFORMED);
            }
        }
        if (timestamp == null || signatures.isEmpty()) {
            return Optional.of(Rejection.MALFORMED);
        }
        byte[] signedPrefix = (timestamp + ".").getBytes(StandardCharsets.US_ASCII);
        boolean matched = false;
        for (byte[] secret : secrets) {
            byte[] expected = HmacSha256.of(secret, signedPrefix, body);
            for (byte[] candidate : signatures) {
                // Non-short-circuit: every pair is compared, each comparison constant-time.
                matched |= MessageDigest.isEqual(expected, candidate);
            }
        }
        if (!matched) {
            return Optional.of(Rejection.MISMATCH);
        }
        long now = clock.instant().getEpochSecond();
        if (timestamp < now - tolerance.toSeconds()) {
            return Optional.of(Rejection.STALE);
        }
        if (timestamp > now + tolerance.toSeconds()) {
            return Optional.of(Rejection.FUTURE);
        }
        return Optional.empty();
    }

    /** The header Stripe would send for {@code body} at {@code timestamp} with {@code secret}. */
    public static String sign(String secret, long timestamp, byte[] body) {
        byte[] mac = HmacSha256.of(
                secret.getBytes(StandardCharsets.UTF_8), (timestamp + ".").getBytes(StandardCharsets.US_ASCII), body);
        return "t=" + timestamp + ",v1=" + HexFormat.of().formatHex(mac);
    }
}
