package uk.co.tradersflow.admin.actions;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;

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
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
