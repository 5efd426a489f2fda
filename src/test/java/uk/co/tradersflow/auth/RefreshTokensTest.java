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
    private final byte[] secret = RefreshTokens.newSecret();

    private static byte[] key(int fill) {
        byte[] key = new byte[32];
        java.util.Arrays.fill(key, (byte) fill);
        return key;
    }

    @Test
    void aTokenReadsBackAsItsSessionGenerationAndSecret() {
        String token = tokens.mint(session, 41, secret);

        assertThat(token).startsWith("tfr_").hasSize(123);
        RefreshTokens.Presented presented = tokens.read(token).orElseThrow();
        assertThat(presented.sessionId()).isEqualTo(session);
        assertThat(presented.generation()).isEqualTo(41);
        assertThat(presented.secret()).isEqualTo(secret);
        assertThat(presented.secretHash())
                .isEqualTo(RefreshTokens.secretHash(secret))
                .hasSize(32);
        assertThat(tokens.mint(session, 41, secret))
                .as("the same generation, the same token")
                .isEqualTo(token);
        assertThat(tokens.mint(session, 42, secret)).isNotEqualTo(token);
        assertThat(presented.toString()).isEqualTo("Presented[session=" + session + ", generation=41]");
    }

    @Test
    void aTokenUnderAnotherKeyIsNotGenuine() {
        String forged = new RefreshTokens(key(9)).mint(session, 0, secret);

        assertThat(tokens.read(forged)).isEmpty();
    }

    @Test
    void anyAlteredByteOrSpellingIsRefused() {
        String token = tokens.mint(session, 7, secret);
        byte[] body = Base64.getUrlDecoder().decode(token.substring(4));
        for (int i = 0; i < body.length; i++) {
            byte[] altered = body.clone();
            altered[i] ^= 1;
            assertThat(tokens.read(
                            "tfr_" + Base64.getUrlEncoder().withoutPadding().encodeToString(altered)))
                    .as("byte %d altered", i)
                    .isEmpty();
        }
        // 89 bytes leave two bits of the last character unused: a character differing only there decodes
        // to the same bytes, and is refused all the same.
        char last = token.charAt(token.length() - 1);
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        char twin = alphabet.charAt(alphabet.indexOf(last) ^ 1);
        String respelled = token.substring(0, token.length() - 1) + twin;
        assertThat(Base64.getUrlDecoder().decode(respelled.substring(4))).isEqualTo(body);
        assertThat(tokens.read(respelled)).isEmpty();
        assertThat(tokens.read(token + "=")).isEmpty();
        assertThat(tokens.read(token.replace("tfr_", "tfx_"))).isEmpty();
    }

    @Test
    void aTokenOfTheFirstFormatOrAnythingElseIsNotOneOfThese() {
        String firstForm = SecretTokens.generate("tfr_");
        assertThat(tokens.read(firstForm)).isEmpty();
        assertThat(RefreshTokens.isOfTheFirstForm(firstForm)).isTrue();
        assertThat(RefreshTokens.isOfTheFirstForm(tokens.mint(session, 0, secret)))
                .isFalse();
        assertThat(tokens.read(null)).isEmpty();
        assertThat(tokens.read("")).isEmpty();
        assertThat(tokens.read("tfr_" + "!".repeat(119))).isEmpty();
    }
}
