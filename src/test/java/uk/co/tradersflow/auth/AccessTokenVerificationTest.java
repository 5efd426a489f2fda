package uk.co.tradersflow.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.Signature;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import uk.co.tradersflow.config.ConfigLoader;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.platform.crypto.Es256Signer;
import uk.co.tradersflow.platform.crypto.ServerKeys;
import uk.co.tradersflow.support.TestServer;

/**
 * Access tokens are verified with Bouncy Castle's ECDSA (and signed by AWS-LC where it loads): every verdict on a
 * well-formed token (our kid, canonical base64url, a low S) is the one the JDK's own provider
 * gives, for minted tokens and for each way of tampering that keeps a token well-formed, so the
 * change of verifier accepts and refuses exactly what it did.
 */
class AccessTokenVerificationTest {
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
    private static final BigInteger N = AccessTokenMalleabilityTest.N;

    @TempDir
    Path dir;

    private ServerKeys keys() {
        return ServerKeys.resolve(ConfigLoader.load(Map.of("TF_DEV_DATA_DIR", dir.toString()), Optional.empty()));
    }

    private static boolean oursAccepts(AccessTokens tokens, String token) {
        try {
            TestServer.await(tokens.verify(token));
            return true;
        } catch (AppError refused) {
            return false;
        }
    }

    private static boolean jdkAccepts(PublicKey key, String token) throws GeneralSecurityException {
        int dot = token.lastIndexOf('.');
        Signature jdk = Signature.getInstance("SHA256withECDSAinP1363Format", "SunEC");
        jdk.initVerify(key);
        jdk.update(token.substring(0, dot).getBytes(StandardCharsets.US_ASCII));
        return jdk.verify(Base64.getUrlDecoder().decode(token.substring(dot + 1)));
    }

    private static String withSignature(String token, byte[] signature) {
        return token.substring(0, token.lastIndexOf('.') + 1) + B64.encodeToString(signature);
    }

    private static byte[] signatureOf(String token) {
        return Base64.getUrlDecoder().decode(token.substring(token.lastIndexOf('.') + 1));
    }

    /** The token's claims with {@code sub} replaced, re-encoded, its signature kept. */
    private static String withSubject(String token, UUID subject) {
        String[] parts = token.split("\\.");
        JsonObject claims = new JsonObject(new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8))
                .put("sub", subject.toString());
        return parts[0] + "." + B64.encodeToString(claims.encode().getBytes(StandardCharsets.UTF_8)) + "." + parts[2];
    }

    @Test
    void everyVerdictOnAWellFormedTokenIsTheJdkProvidersVerdict() throws GeneralSecurityException {
        ServerKeys keys = keys();
        AccessTokens tokens = new AccessTokens(keys, Duration.ofMinutes(15), Clock.systemUTC());
        PublicKey key = keys.jwtKeyPair().getPublic();
        String previous = null;
        int refused = 0;
        for (int i = 0; i < 40; i++) {
            String token = tokens.mint(UUID.randomUUID(), UUID.randomUUID(), UUID.randomUUID(), Optional.empty());
            assertThat(oursAccepts(tokens, token)).as("minted token %d", i).isTrue();
            assertThat(jdkAccepts(key, token)).as("minted token %d, JDK", i).isTrue();

            byte[] signature = signatureOf(token);
            BigInteger r = new BigInteger(1, signature, 0, 32);
            byte[] nextR = signature.clone();
            System.arraycopy(Es256Signer.fixed32(r.add(BigInteger.ONE).mod(N)), 0, nextR, 0, 32);
            byte[] flipped = signature.clone();
            flipped[40] ^= 0x01; // a bit of s below its top: s stays low
            String[] forgeries = {
                withSubject(token, UUID.randomUUID()), // claims changed, signature kept
                withSignature(token, nextR), // r + 1
                withSignature(token, flipped), // one bit of s
                previous == null ? withSignature(token, nextR) : withSignature(token, signatureOf(previous)),
            };
            for (String forged : forgeries) {
                boolean jdk = jdkAccepts(key, forged);
                assertThat(oursAccepts(tokens, forged))
                        .as("forgery of token %d", i)
                        .isEqualTo(jdk);
                if (!jdk) {
                    refused++;
                }
            }
            previous = token;
        }
        assertThat(refused).as("every forgery refused").isEqualTo(40 * 4);
    }

    @Test
    void aTokenSignedByAKeyNotInTheSetIsRefusedThoughItNamesOurs() {
        ServerKeys ours = keys();
        AccessTokens tokens = new AccessTokens(ours, Duration.ofMinutes(15), Clock.systemUTC());
        String token = tokens.mint(UUID.randomUUID(), UUID.randomUUID(), UUID.randomUUID(), Optional.empty());
        Path other = dir.resolve("other");
        AccessTokens stranger = new AccessTokens(
                ServerKeys.resolve(ConfigLoader.load(Map.of("TF_DEV_DATA_DIR", other.toString()), Optional.empty())),
                Duration.ofMinutes(15),
                Clock.systemUTC());
        String foreign = stranger.mint(UUID.randomUUID(), UUID.randomUUID(), UUID.randomUUID(), Optional.empty());
        // Our header (our kid) and claims, the stranger's valid signature over its own: refused.
        assertThat(oursAccepts(tokens, withSignature(token, signatureOf(foreign))))
                .isFalse();
        // The stranger's whole token, our kid put in its header: refused (the kid names our key).
        String ourHeader = token.substring(0, token.indexOf('.'));
        String renamed = ourHeader + foreign.substring(foreign.indexOf('.'));
        assertThat(oursAccepts(tokens, renamed)).isFalse();
        assertThat(oursAccepts(tokens, token)).isTrue();
    }
}
