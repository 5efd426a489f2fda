package uk.co.tradersflow.admin.actions;

import java.security.SecureRandom;
import java.util.Base64;
import uk.co.tradersflow.platform.crypto.Sha256;

/**
 * An action's confirmation token: 256 random bits handed to the requester once, stored only as
 * its SHA-256, so a copy of the database cannot confirm anything.
 */
final class ConfirmationTokens {
    /** Recognisable in text, and removed from any log line by {@code platform.log.Redactor}. */
    static final String PREFIX = "tfc_";

    private static final SecureRandom RANDOM = new SecureRandom();

    private ConfirmationTokens() {}

    static String generate() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    static byte[] hash(String token) {
        return Sha256.of(token);
    }
}
