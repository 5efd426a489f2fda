package uk.co.tradersflow.platform.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import uk.co.tradersflow.config.ConfigException;
import uk.co.tradersflow.config.ConfigLoader;

/** Generated development keys serve developers and tests, never a production-looking address. */
class DevelopmentKeysTest {
    @TempDir
    Path dir;

    private ServerKeys resolve(Map<String, String> settings) {
        Map<String, String> env = new HashMap<>(settings);
        env.put("TF_DEV_DATA_DIR", dir.resolve("dev").toString());
        return ServerKeys.resolve(ConfigLoader.load(env, Optional.empty()));
    }

    private static String key32() {
        byte[] key = new byte[32];
        new java.security.SecureRandom().nextBytes(key);
        return Base64.getEncoder().encodeToString(key);
    }

    private Map<String, String> production() throws IOException {
        SelfSignedCertificate.Pems tls = SelfSignedCertificate.forLocalhost();
        Path cert = Files.writeString(dir.resolve("cert.pem"), tls.certificate());
        Path key = Files.writeString(dir.resolve("key.pem"), tls.privateKey());
        Map<String, String> env = new HashMap<>();
        env.put("TF_PUBLIC_URL", "https://api.tradersflow.co.uk");
        env.put("TF_JWT_PRIVATE_KEY", Pem.privateKeyPem(Pem.generateP256().getPrivate()));
        env.put("TF_DATA_KEY", key32());
        env.put("TF_URL_SIGNING_KEY", key32());
        env.put("TF_TLS_CERT", cert.toString());
        env.put("TF_TLS_KEY", key.toString());
        return env;
    }

    @Test
    void aProductionAddressWithEveryKeySetStarts() throws IOException {
        assertThat(resolve(production()).dataKey()).hasSize(32);
        assertThat(dir.resolve("dev")).doesNotExist();
    }

    @Test
    void aProductionAddressMissingAnyKeyStopsStartUpNamingThatSettingAndGeneratesNothing() throws IOException {
        for (String setting : new String[] {"TF_JWT_PRIVATE_KEY", "TF_DATA_KEY", "TF_URL_SIGNING_KEY", "TF_TLS_CERT"}) {
            Map<String, String> env = production();
            env.remove(setting);
            if (setting.equals("TF_TLS_CERT")) {
                env.remove("TF_TLS_KEY");
            }
            assertThatThrownBy(() -> resolve(env))
                    .as(setting)
                    .isInstanceOf(ConfigException.class)
                    .hasMessageStartingWith("setting " + setting + " must be set")
                    .hasMessageContaining("TF_PUBLIC_URL");
            assertThat(dir.resolve("dev"))
                    .as("no development key written for " + setting)
                    .doesNotExist();
        }
    }

    @Test
    void localAndReservedTestAddressesMayUseGeneratedKeys() {
        for (String url : new String[] {
            "https://localhost:8443",
            "https://127.0.0.1",
            "https://[::1]:8443",
            "https://app.tradersflow.test",
            "https://dev.localhost"
        }) {
            assertThat(ServerKeys.isDevelopmentHost(URI.create(url))).as(url).isTrue();
        }
        for (String url : new String[] {
            "https://tradersflow.co.uk",
            "https://localhost.example.com",
            "https://10.0.0.5",
            "https://test.tradersflow.co.uk"
        }) {
            assertThat(ServerKeys.isDevelopmentHost(URI.create(url))).as(url).isFalse();
        }
        assertThat(resolve(Map.of("TF_PUBLIC_URL", "https://localhost:9443")).dataKey())
                .hasSize(32);
    }
}
