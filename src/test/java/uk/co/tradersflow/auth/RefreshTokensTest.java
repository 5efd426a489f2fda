package uk.co.tradersflow.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Base64;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** A refresh token names its session and generation, and nobody without the server's key can make one. */
class RefreshTokensTest {
    private static final byte[] KEY = key(1);
    private final RefreshTokens tokens = new RefreshTokens(KEY);
    private final UUID session = UUID.randomUUID();

    private static byte[] key(int fill) {
        byte[] key = new byte[32];
        java.util.Arrays.fill(key, (byte) fill);
        return key;
    }

    @Test
    void aTokenReadsBackAsItsSessionAndGeneration() {
        String token = tokens.mint(session, 41);

        assertThat(token).startsWith("tfr_").hasSize(80);
        assertThat(tokens.read(token)).contains(new RefreshTokens.Presented(session, 41));
        assertThat(tokens.mint(session, 41))
                .as("the same generation, the same token")
                .isEqualTo(token);
        assertThat(tokens.mint(session, 42)).isNotEqualTo(token);
    }

    @Test
    void aTokenUnderAnotherKeyIsNotGenuine() {
        String forged = new RefreshTokens(key(9)).mint(session, 0);

        assertThat(tokens.read(forged)).isEmpty();
    }

    @Test
    void anyAlteredByteOrSpellingIsRefused() {
        String token = tokens.mint(session, 7);
        byte[] body = Base64.getUrlDecoder().decode(token.substring(4));
        for (int i = 0; i < body.length; i++) {
            byte[] altered = body.clone();
            altered[i] ^= 1;
            assertThat(tokens.read(
                            "tfr_" + Base64.getUrlEncoder().withoutPadding().encodeToString(altered)))
                    .as("byte %d altered", i)
                    .isEmpty();
        }
        // 57 bytes fill 76 characters exactly, so no spare bits; the last character still has no twin.
        char last = token.charAt(token.length() - 1);
        String respelled = token.substring(0, token.length() - 1) + (last == 'A' ? 'B' : 'A');
        assertThat(tokens.read(respelled)).isEmpty();
        assertThat(tokens.read(token + "=")).isEmpty();
        assertThat(tokens.read(token.replace("tfr_", "tfx_"))).isEmpty();
    }

    @Test
    void aTokenOfTheFirstFormatOrAnythingElseIsNotOneOfThese() {
        assertThat(tokens.read(SecretTokens.generate("tfr_"))).isEmpty();
        assertThat(tokens.read(null)).isEmpty();
        assertThat(tokens.read("")).isEmpty();
        assertThat(tokens.read("tfr_" + "!".repeat(76))).isEmpty();
    }
}
