package uk.co.tradersflow.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
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
import uk.co.tradersflow.platform.crypto.Pem;
import uk.co.tradersflow.platform.crypto.ServerKeys;
import uk.co.tradersflow.support.TestServer;

/** A new key signs at once; tokens signed by a retired key verify while it is kept in the set. */
class JwtKeyRotationTest {
    @TempDir
    Path dir;

    private AccessTokens tokens(Map<String, String> settings) {
        Map<String, String> env = new java.util.HashMap<>(settings);
        env.put("TF_DEV_DATA_DIR", dir.toString());
        return new AccessTokens(
                ServerKeys.resolve(ConfigLoader.load(env, Optional.empty())),
                Duration.ofMinutes(15),
                Clock.systemUTC());
    }

    private static String mint(AccessTokens tokens) {
        return tokens.mint(UUID.randomUUID(), UUID.randomUUID(), UUID.randomUUID(), Optional.empty());
    }

    private static String kidOf(String token) {
        String header = new String(
                Base64.getUrlDecoder().decode(token.substring(0, token.indexOf('.'))), StandardCharsets.UTF_8);
        return new JsonObject(header).getString("kid");
    }

    private static boolean accepted(AccessTokens tokens, String token) {
        try {
            TestServer.await(tokens.verify(token));
            return true;
        } catch (AppError e) {
            return false;
        }
    }

    @Test
    void aTokenOfTheRetiredKeyVerifiesAfterRotationWhileNewTokensUseTheNewKey() {
        String oldKey = Pem.privateKeyPem(Pem.generateP256().getPrivate());
        String newKey = Pem.privateKeyPem(Pem.generateP256().getPrivate());
        AccessTokens before = tokens(Map.of("TF_JWT_PRIVATE_KEY", oldKey));
        String oldToken = mint(before);

        AccessTokens after = tokens(Map.of("TF_JWT_PRIVATE_KEY", newKey, "TF_JWT_PREVIOUS_KEYS", oldKey));
        String newToken = mint(after);
        assertThat(kidOf(newToken))
                .isNotEqualTo(kidOf(oldToken))
                .isEqualTo(JwtKeySet.kid(Pem.readEcPrivateKey(newKey).getPublic()));
        assertThat(accepted(after, oldToken)).as("old token during the overlap").isTrue();
        assertThat(accepted(after, newToken)).isTrue();
        assertThat(accepted(before, newToken))
                .as("the old key set does not know the new key")
                .isFalse();

        AccessTokens overlapOver = tokens(Map.of("TF_JWT_PRIVATE_KEY", newKey));
        assertThat(accepted(overlapOver, oldToken)).as("retired key removed").isFalse();
        assertThat(accepted(overlapOver, newToken)).isTrue();
    }

    @Test
    void aRetiredKeyMayBeGivenAsItsPublicHalfOnly() {
        String oldKey = Pem.privateKeyPem(Pem.generateP256().getPrivate());
        String oldPublic = Pem.publicKeyPem(Pem.readEcPrivateKey(oldKey).getPublic());
        String oldToken = mint(tokens(Map.of("TF_JWT_PRIVATE_KEY", oldKey)));
        AccessTokens after = tokens(Map.of(
                "TF_JWT_PRIVATE_KEY",
                Pem.privateKeyPem(Pem.generateP256().getPrivate()),
                "TF_JWT_PREVIOUS_KEYS",
                oldPublic));
        assertThat(accepted(after, oldToken)).isTrue();
        assertThat(accepted(after, mint(after))).isTrue();
    }

    @Test
    void aTokenNamingAnUnknownKidOrNoKidIsRefusedEvenIfTheSignatureWouldVerify() {
        AccessTokens tokens = tokens(Map.of());
        String token = mint(tokens);
        String[] parts = token.split("\\.");
        String header = new String(Base64.getUrlDecoder().decode(parts[0]), StandardCharsets.UTF_8);
        for (JsonObject changed : new JsonObject[] {
            new JsonObject(header).put("kid", "tf-1"),
            new JsonObject(header).putNull("kid"),
            removeKid(new JsonObject(header))
        }) {
            String forged = Base64.getUrlEncoder()
                            .withoutPadding()
                            .encodeToString(changed.encode().getBytes(StandardCharsets.UTF_8))
                    + "." + parts[1] + "." + parts[2];
            assertThat(accepted(tokens, forged)).as(changed.encode()).isFalse();
        }
    }

    private static JsonObject removeKid(JsonObject header) {
        header.remove("kid");
        return header;
    }

    @Test
    void unreadablePreviousKeysStopStartUpNamingTheSetting() {
        assertThatThrownBy(() -> tokens(
                        Map.of("TF_JWT_PREVIOUS_KEYS", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")))
                .hasMessageContaining("TF_JWT_PREVIOUS_KEYS");
    }
}
