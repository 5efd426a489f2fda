package uk.co.tradersflow.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Optional;
import java.util.UUID;
import uk.co.tradersflow.platform.crypto.HmacSha256;

/**
 * The {@code deviceToken} a successful sign-in returns: a device id bound to the user by an HMAC.
 * A sign-in presenting a valid one for that user is throttled by the device's own counter, so
 * an attacker guessing from elsewhere cannot lock the owner out of devices they already use.
 *
 * <p>A token lives {@link #LIFE} (each sign-in hands out a fresh one) and is bound to the user's
 * password epoch, which only a new password moves: after a password change or reset every device
 * must prove itself again, so a token taken from a lost phone stops buying a guess budget of its
 * own, while rehashing the same password leaves every device's token standing.
 */
public final class DeviceTokens {
    static final Duration LIFE = Duration.ofDays(90);

    private final byte[] key;
    private final Clock clock;

    public DeviceTokens(byte[] serverKey, Clock clock) {
        // A key of its own, derived from the URL-signing key.
        this.key = HmacSha256.derive(serverKey, "tradersflow device tokens v1");
        this.clock = clock;
    }

    public String issue(UUID userId, UUID deviceId, int passwordEpoch) {
        String body = userId + "." + deviceId + "." + clock.instant().getEpochSecond();
        return "tfd_" + b64(body.getBytes(StandardCharsets.UTF_8)) + "." + b64(mac(body, passwordEpoch));
    }

    /** The device id, when the token is genuine, unexpired, issued to this user and under their current password. */
    public Optional<UUID> deviceOf(String token, UUID userId, int passwordEpoch) {
        if (token == null || !token.startsWith("tfd_") || token.length() > 300) {
            return Optional.empty();
        }
        String[] parts = token.substring(4).split("\\.");
        if (parts.length != 2) {
            return Optional.empty();
        }
        try {
            String body = new String(Base64.getUrlDecoder().decode(parts[0]), StandardCharsets.UTF_8);
            // Canonical text, not decoded bytes: base64's unused trailing bits would let an altered token pass.
            if (!MessageDigest.isEqual(
                    b64(mac(body, passwordEpoch)).getBytes(StandardCharsets.US_ASCII),
                    parts[1].getBytes(StandardCharsets.US_ASCII))) {
                return Optional.empty();
            }
            String[] fields = body.split("\\.");
            if (fields.length != 3 || !fields[0].equals(userId.toString())) {
                return Optional.empty();
            }
            Instant issued = Instant.ofEpochSecond(Long.parseLong(fields[2]));
            return issued.plus(LIFE).isAfter(clock.instant())
                    ? Optional.of(UUID.fromString(fields[1]))
                    : Optional.empty();
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** The epoch is MAC'd, not carried. */
    private byte[] mac(String body, int passwordEpoch) {
        return mac(body + "|" + passwordEpoch);
    }

    private byte[] mac(String body) {
        return HmacSha256.of(key, body);
    }

    private static String b64(byte[] bytes) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }
}
