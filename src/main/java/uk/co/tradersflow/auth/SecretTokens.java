package uk.co.tradersflow.auth;

import java.security.SecureRandom;
import java.util.Base64;
import uk.co.tradersflow.platform.crypto.Sha256;

/**
 * Opaque bearer secrets (refresh tokens, emailed link tokens): 256 random bits, handed out once
 * and stored only as a SHA-256 hash, so a copy of the database cannot be used to sign in.
 */
public final class SecretTokens {
    private static final SecureRandom RANDOM = new SecureRandom();

    private SecretTokens() {}

    /** A fresh token with a recognisable prefix (which the log redactor also knows). */
    public static String generate(String prefix) {
        return prefix + Base64.getUrlEncoder().withoutPadding().encodeToString(random256());
    }

    /** 256 random bits. */
    static byte[] random256() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return bytes;
    }

    public static byte[] hash(String token) {
        return Sha256.of(token);
    }
}
