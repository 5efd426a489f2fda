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
 * period so that two racing refreshes of one token both receive the same new token. The row id
 * is bound as associated data, so a sealed value cannot be moved to another row.
 */
final class SealedTokens {
    private final SecretKeySpec key;
    private final SecureRandom random = new SecureRandom();

    SealedTokens(byte[] dataKey) {
        this.key = new SecretKeySpec(dataKey, "AES");
    }

    byte[] seal(String token, String rowId) {
        try {
            byte[] nonce = new byte[12];
            random.nextBytes(nonce);
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(128, nonce));
            cipher.updateAAD(rowId.getBytes(StandardCharsets.UTF_8));
            byte[] sealed = cipher.doFinal(token.getBytes(StandardCharsets.UTF_8));
            byte[] out = Arrays.copyOf(nonce, 12 + sealed.length);
            System.arraycopy(sealed, 0, out, 12, sealed.length);
            return out;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    String open(byte[] sealed, String rowId) {
        try {
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(128, sealed, 0, 12));
            cipher.updateAAD(rowId.getBytes(StandardCharsets.UTF_8));
            return new String(cipher.doFinal(sealed, 12, sealed.length - 12), StandardCharsets.UTF_8);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("sealed token does not open", e);
        }
    }
}
