package uk.co.tradersflow.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * Opaque bearer secrets (refresh tokens, emailed link tokens): 256 random bits, handed out once
 * and stored only as a SHA-256 hash, so a copy of the database cannot be used to sign in.
 */
public final class SecretTokens {
    private static final SecureRandom RANDOM = new SecureRandom();

    private SecretTokens() {}

    /** A fresh token with a recognisable prefix (which the log redactor also knows). */
    public static String generate(String prefix) {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return prefix + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    public static byte[] hash(String token) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
