package uk.co.tradersflow.ops;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import uk.co.tradersflow.auth.JwtKeySet;
import uk.co.tradersflow.config.AppConfig;
import uk.co.tradersflow.config.ConfigException;
import uk.co.tradersflow.platform.crypto.Pem;
import uk.co.tradersflow.platform.crypto.ServerKeys;

/**
 * {@code rotate-jwt-key}: a new access-token signing key replaces the current one in its file,
 * and the current key's public half joins the retired keys' file, where it still verifies the
 * tokens it signed until they expire (at most {@code TF_ACCESS_TOKEN_TTL_SECONDS}). With
 * {@code --no-overlap} (the old key leaked) the retired keys are dropped instead: every token
 * signed before is refused at once. Instances pick the keys up when restarted.
 *
 * <p>The files are {@code TF_JWT_PRIVATE_KEY_FILE} and {@code TF_JWT_PREVIOUS_KEYS_FILE} when
 * set (a writable secrets volume), else the development keys in {@code TF_DEV_DATA_DIR}. A key
 * given inline in the environment cannot be rewritten from here: the command says so and
 * changes nothing.
 */
final class JwtKeyRotation {
    /** Retired keys kept: enough for rotations in quick succession, few enough to stay reviewable. */
    static final int KEEP_RETIRED = 3;

    record Result(String newKid, String retiredKid, Path keyFile, Path previousFile, int retiredKept) {}

    private JwtKeyRotation() {}

    static Result rotate(AppConfig config, Map<String, String> env, boolean overlap) {
        Path keyFile = file(env, "TF_JWT_PRIVATE_KEY", config.ops().devDataDir().resolve(ServerKeys.DEV_JWT_KEY));
        Path previousFile =
                file(env, "TF_JWT_PREVIOUS_KEYS", config.ops().devDataDir().resolve(ServerKeys.DEV_JWT_PREVIOUS_KEYS));
        if (env.containsKey("TF_JWT_PRIVATE_KEY_FILE") != env.containsKey("TF_JWT_PREVIOUS_KEYS_FILE")) {
            throw new ConfigException(
                    "rotate-jwt-key needs TF_JWT_PRIVATE_KEY_FILE and TF_JWT_PREVIOUS_KEYS_FILE together "
                            + "(the new key goes to the first, the retired one to the second)");
        }
        if (!Files.isReadable(keyFile)) {
            throw new ConfigException("rotate-jwt-key: no current key in " + keyFile
                    + " (start the server once, or set TF_JWT_PRIVATE_KEY_FILE)");
        }
        KeyPair current;
        List<PublicKey> retired = new ArrayList<>();
        try {
            current = Pem.readEcPrivateKey(Files.readString(keyFile, StandardCharsets.UTF_8));
            if (overlap && Files.isReadable(previousFile)) {
                retired.addAll(Pem.readEcPublicKeys(Files.readString(previousFile, StandardCharsets.UTF_8)));
            }
        } catch (IOException | IllegalArgumentException e) {
            throw new ConfigException("rotate-jwt-key: cannot read the keys in " + keyFile + " / " + previousFile);
        }
        List<PublicKey> keep = new ArrayList<>();
        if (overlap) {
            keep.add(current.getPublic());
            retired.stream()
                    .filter(k -> !JwtKeySet.kid(k).equals(JwtKeySet.kid(current.getPublic())))
                    .limit(KEEP_RETIRED - 1)
                    .forEach(keep::add);
        }
        StringBuilder previousPems = new StringBuilder();
        keep.forEach(k -> previousPems.append(Pem.publicKeyPem(k)));
        KeyPair next = Pem.generateP256();
        // Retired keys first: a crash between the two writes leaves the old key signing and also listed, which is
        // harmless.
        ServerKeys.write(previousFile, previousPems.toString());
        ServerKeys.write(keyFile, Pem.privateKeyPem(next.getPrivate()));
        return new Result(
                JwtKeySet.kid(next.getPublic()),
                JwtKeySet.kid(current.getPublic()),
                keyFile,
                previousFile,
                keep.size());
    }

    private static Path file(Map<String, String> env, String setting, Path devFile) {
        if (!env.getOrDefault(setting, "").isBlank()) {
            throw new ConfigException(
                    "rotate-jwt-key: " + setting + " is set inline in the environment; put the new key where "
                            + "it is stored (the vault), or use " + setting + "_FILE");
        }
        String named = env.getOrDefault(setting + "_FILE", "");
        return named.isBlank() ? devFile : Path.of(named.trim());
    }
}
