package uk.co.tradersflow.auth;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * AES-256-GCM sealing of a rotated refresh token's successor, kept only for the reuse grace
 * period so that two racing refreshes of one token both receive the same new token. The spent
 * token's hash is bound as associated data (its row's id until V044, when the successor came to be
 * sealed before the row is found), so a sealed value opens only for whoever presents that token:
 * moved to another row, it does not open.
 */
final class SealedTokens {
    private final SecretKeySpec key;
    private final SecureRandom random = new SecureRandom();

    SealedTokens(byte[] dataKey) {
        this.key = new SecretKeySpec(dataKey, "AES");
    }

    byte[] seal(String token, byte[] boundTo) {
        try {
            byte[] nonce = new byte[12];
            random.nextBytes(nonce);
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(128, nonce));
            cipher.updateAAD(boundTo);
            byte[] sealed = cipher.doFinal(token.getBytes(StandardCharsets.UTF_8));
            byte[] out = Arrays.copyOf(nonce, 12 + sealed.length);
            System.arraycopy(sealed, 0, out, 12, sealed.length);
            return out;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    String open(byte[] sealed, byte[] boundTo) {
        try {
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(128, sealed, 0, 12));
            cipher.updateAAD(boundTo);
            return new String(cipher.doFinal(sealed, 12, sealed.length - 12), StandardCharsets.UTF_8);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("sealed token does not open", e);
        }
    }
}
