package uk.co.tradersflow.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import uk.co.tradersflow.platform.crypto.Pem;
import uk.co.tradersflow.support.LogCapture;

/** Every secret may come from a file (Docker/Kubernetes secrets, Vault Agent) instead of the environment. */
class SecretFilesTest {
    @TempDir
    Path dir;

    private static String b64(int fill) {
        byte[] key = new byte[32];
        java.util.Arrays.fill(key, (byte) fill);
        return Base64.getEncoder().encodeToString(key);
    }

    private Path secretFile(String name, String content, String mode) throws IOException {
        Path f = dir.resolve(name);
        Files.writeString(f, content, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(mode));
        return f;
    }

    private record Case(String value, Function<AppConfig, Object> read, Object expected) {}

    /** One valid value per secret setting, and where the parsed configuration shows it. */
    private static Map<String, Case> everySecret() {
        String pem = Pem.privateKeyPem(Pem.generateP256().getPrivate());
        Map<String, Case> cases = new LinkedHashMap<>();
        cases.put(
                "TF_JWT_PRIVATE_KEY",
                new Case(pem, c -> c.keys().jwtPrivateKeyPem().orElseThrow(), pem.stripTrailing()));
        cases.put(
                "TF_JWT_PREVIOUS_KEYS",
                new Case(pem, c -> c.keys().jwtPreviousKeysPem().orElseThrow(), pem.stripTrailing()));
        cases.put("TF_DATA_KEY", new Case(b64(1), c -> b64(c.keys().dataKey().orElseThrow()), b64(1)));
        cases.put(
                "TF_DATA_KEY_PREVIOUS",
                new Case(
                        b64(2) + "," + b64(3),
                        c -> c.storage().previousDataKeys().stream()
                                .map(SecretFilesTest::b64)
                                .toList(),
                        java.util.List.of(b64(2), b64(3))));
        cases.put(
                "TF_URL_SIGNING_KEY",
                new Case(b64(4), c -> b64(c.keys().urlSigningKey().orElseThrow()), b64(4)));
        cases.put(
                "TF_STRIPE_SECRET_KEY",
                new Case("sk_test_fromfile", c -> c.billing().stripeSecretKey().orElseThrow(), "sk_test_fromfile"));
        cases.put(
                "TF_STRIPE_WEBHOOK_SECRET",
                new Case(
                        "whsec_fromfile1,whsec_fromfile2",
                        c -> c.billing().stripeWebhookSecrets(),
                        java.util.List.of("whsec_fromfile1", "whsec_fromfile2")));
        cases.put(
                "TF_SMTP_PASSWORD",
                new Case("smtp pass from file", c -> c.email().smtpPassword().orElseThrow(), "smtp pass from file"));
        cases.put(
                "TF_S3_SECRET_ACCESS_KEY",
                new Case(
                        "s3-secret-from-file",
                        c -> c.storage().s3().orElseThrow().secretAccessKey().orElseThrow(),
                        "s3-secret-from-file"));
        cases.put(
                "TF_EMAIL_WEBHOOK_SECRET",
                new Case("whsec_emailfromfile", c -> c.email().webhookSecret().orElseThrow(), "whsec_emailfromfile"));
        cases.put(
                "TF_METRICS_TOKEN",
                new Case(
                        "metrics-token-from-file",
                        c -> c.ops().metricsToken().orElseThrow(),
                        "metrics-token-from-file"));
        cases.put(
                "TF_DB_URL",
                new Case(
                        "postgresql://tf_app:pw1@db:5432/tf", c -> c.db().url(), "postgresql://tf_app:pw1@db:5432/tf"));
        cases.put(
                "TF_DB_ADMIN_URL",
                new Case(
                        "postgresql://postgres:pw2@db:5432/tf",
                        c -> c.db().adminUrl(),
                        "postgresql://postgres:pw2@db:5432/tf"));
        cases.put(
                "TF_DB_WORKER_URL",
                new Case(
                        "postgresql://tf_worker:pw3@db:5432/tf",
                        c -> c.db().workerUrl().orElseThrow(),
                        "postgresql://tf_worker:pw3@db:5432/tf"));
        cases.put(
                "TF_REDIS_URL",
                new Case("redis://:pw4@redis:6379", c -> c.redis().url(), "redis://:pw4@redis:6379"));
        return cases;
    }

    private static String b64(byte[] key) {
        return Base64.getEncoder().encodeToString(key);
    }

    @Test
    void everySecretSettingIsReadFromItsFileWithTheTrailingNewlineTrimmed() throws IOException {
        Map<String, Case> cases = everySecret();
        assertThat(cases.keySet()).as("a case for every secret setting").isEqualTo(ConfigLoader.secretSettings());
        for (Map.Entry<String, Case> e : cases.entrySet()) {
            Map<String, String> env = new HashMap<>();
            if (e.getKey().equals("TF_S3_SECRET_ACCESS_KEY")) {
                env.putAll(Map.of("TF_S3_BUCKET", "tf-docs", "TF_S3_ACCESS_KEY_ID", "AKIAFILETEST"));
            }
            String ending = e.getKey().hashCode() % 2 == 0 ? "\n" : "\r\n";
            env.put(
                    e.getKey() + "_FILE",
                    secretFile(e.getKey(), e.getValue().value() + ending, "rw-------")
                            .toString());
            AppConfig config = ConfigLoader.load(env, Optional.empty());
            assertThat(e.getValue().read().apply(config))
                    .as(e.getKey())
                    .isEqualTo(e.getValue().expected());
        }
    }

    @Test
    void aSecretFileNamedInTheConfigFileIsReadToo() throws IOException {
        Path secret = secretFile("smtp-password", "from-config-file\n", "r--------");
        Path conf = dir.resolve("application.yaml");
        Files.writeString(conf, "smtp_password_file: " + secret + "\n");
        assertThat(ConfigLoader.load(Map.of(), Optional.of(conf)).email().smtpPassword())
                .contains("from-config-file");
    }

    @Test
    void aSecretSetBothDirectlyAndByFileStopsStartUpNamingTheSettingButNotTheValue() throws IOException {
        Path f = secretFile("stripe", "sk_test_value_in_file\n", "rw-------");
        assertThatThrownBy(() -> ConfigLoader.load(
                        Map.of(
                                "TF_STRIPE_SECRET_KEY",
                                "sk_test_value_in_env",
                                "TF_STRIPE_SECRET_KEY_FILE",
                                f.toString()),
                        Optional.empty()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("TF_STRIPE_SECRET_KEY")
                .hasMessageContaining("TF_STRIPE_SECRET_KEY_FILE")
                .satisfies(e -> assertThat(e.getMessage())
                        .doesNotContain("sk_test_value_in_file")
                        .doesNotContain("sk_test_value_in_env"));
    }

    @Test
    void aSecretFileReadableByOthersIsUsedWithAWarningNamingTheFile() throws IOException {
        Path open = secretFile("open-token", "open-metrics-token\n", "rw-r--r--");
        Path closed = secretFile("closed-token", "closed-metrics-token\n", "rw-------");
        try (LogCapture logs = new LogCapture()) {
            AppConfig config = ConfigLoader.load(Map.of("TF_METRICS_TOKEN_FILE", open.toString()), Optional.empty());
            assertThat(config.ops().metricsToken()).contains("open-metrics-token");
            ConfigLoader.load(Map.of("TF_METRICS_TOKEN_FILE", closed.toString()), Optional.empty());
            assertThat(logs.text())
                    .contains("WARN")
                    .contains(open.toString())
                    .contains("TF_METRICS_TOKEN_FILE")
                    .doesNotContain(closed.toString())
                    .doesNotContain("open-metrics-token");
        }
    }

    @Test
    void aMissingOrEmptySecretFileStopsStartUpNamingTheSetting() throws IOException {
        assertThatThrownBy(() -> ConfigLoader.load(
                        Map.of("TF_DATA_KEY_FILE", dir.resolve("absent").toString()), Optional.empty()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("TF_DATA_KEY_FILE");
        Path empty = secretFile("empty", "\n", "rw-------");
        assertThatThrownBy(() -> ConfigLoader.load(Map.of("TF_DATA_KEY_FILE", empty.toString()), Optional.empty()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("TF_DATA_KEY_FILE");
    }

    @Test
    void anEmptyFileOfKeysBeingRetiredMeansNoneIsBeingRetired() throws IOException {
        Path empty = secretFile("none-retired", "", "rw-------");
        AppConfig config = ConfigLoader.load(
                Map.of("TF_JWT_PREVIOUS_KEYS_FILE", empty.toString(), "TF_DATA_KEY_PREVIOUS_FILE", empty.toString()),
                Optional.empty());
        assertThat(config.keys().jwtPreviousKeysPem()).isEmpty();
        assertThat(config.storage().previousDataKeys()).isEmpty();
    }

    @Test
    void aBadValueInASecretFileIsReportedWithoutPrintingIt() throws IOException {
        Path f = secretFile("bad-key", "not*base64*but-secret\n", "rw-------");
        assertThatThrownBy(() -> ConfigLoader.load(Map.of("TF_DATA_KEY_FILE", f.toString()), Optional.empty()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("TF_DATA_KEY")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("but-secret"));
    }

    @Test
    void onlySecretSettingsHaveAFileVariant() {
        try (LogCapture logs = new LogCapture()) {
            AppConfig config = ConfigLoader.load(Map.of("TF_HTTP_PORT_FILE", "/nonexistent"), Optional.empty());
            assertThat(config.http().httpPort()).isEqualTo(8080);
            assertThat(logs.text()).contains("ignoring unknown environment variable TF_HTTP_PORT_FILE");
        }
    }
}
