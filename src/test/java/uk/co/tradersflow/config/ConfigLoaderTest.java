package uk.co.tradersflow.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Settings: defaults < file < environment, and failures that name the setting but never a secret. */
class ConfigLoaderTest {
    @TempDir
    Path dir;

    private Path file(String yaml) throws IOException {
        Path f = dir.resolve("application.yaml");
        Files.writeString(f, yaml);
        return f;
    }

    private static AppConfig env(Map<String, String> env) {
        return ConfigLoader.load(env, Optional.empty());
    }

    @Test
    void withNothingSetTheContractDefaultsApply() {
        AppConfig c = env(Map.of());
        assertThat(c.http().httpPort()).isEqualTo(8080);
        assertThat(c.http().httpsPort()).isEqualTo(8443);
        assertThat(c.links().publicUrl().toString()).isEqualTo("https://localhost:8443");
        assertThat(c.db().url()).isEqualTo("postgresql://tf_app@127.0.0.1:5432/tradersflow");
        assertThat(c.db().adminUrl()).isEqualTo("postgresql://postgres@127.0.0.1:5432/tradersflow");
        assertThat(c.redis().url()).isEqualTo("redis://127.0.0.1:6379");
        assertThat(c.http().tlsCert()).isEmpty();
        assertThat(c.auth().ownerEmails()).isEmpty();
        assertThat(c.auth().supportEmails()).isEmpty();
        assertThat(c.keys().jwtPrivateKeyPem()).isEmpty();
        assertThat(c.billing().stripeSecretKey()).isEmpty();
        assertThat(c.billing().stripeWebhookSecrets()).isEmpty();
        assertThat(c.billing().trialDays()).isEqualTo(14);
        assertThat(c.email().smtpHost()).isEqualTo("127.0.0.1");
        assertThat(c.email().smtpPort()).isEqualTo(1025);
        assertThat(c.email().smtpStartTls()).isEqualTo(SmtpStartTls.OPTIONAL);
        assertThat(c.email().mailFrom()).isEqualTo("TradersFlow <no-reply@localhost>");
        assertThat(c.auth().googleIssuers()).containsExactly("https://accounts.google.com", "accounts.google.com");
        assertThat(c.storage().dir()).isEqualTo(Path.of("./data/files"));
        assertThat(c.storage().uploadMaxBytes()).isEqualTo(20971520L);
        assertThat(c.storage().signedUrlTtl()).isEqualTo(Duration.ofSeconds(300));
        assertThat(c.auth().accessTokenTtl()).isEqualTo(Duration.ofSeconds(900));
        assertThat(c.auth().refreshTokenTtl()).isEqualTo(Duration.ofSeconds(2592000));
        assertThat(c.auth().refreshReuseGrace()).isEqualTo(Duration.ofSeconds(10));
        assertThat(c.auth().loginMaxFailures()).isEqualTo(5);
        assertThat(c.auth().loginLockout()).isEqualTo(Duration.ofSeconds(900));
        assertThat(c.auth().loginIpLimitPerMinute()).isEqualTo(30);
        assertThat(c.http().apiRatePerSecond()).isEqualTo(50);
        assertThat(c.http().apiBurst()).isEqualTo(100);
        assertThat(c.http().trustedProxies()).isEmpty();
        assertThat(c.email().maxAttempts()).isEqualTo(6);
        assertThat(c.email().alertFailureRate()).isEqualTo(0.05);
        assertThat(c.email().alertWindow()).isEqualTo(Duration.ofSeconds(3600));
        assertThat(c.ops().metricsToken()).isEmpty();
        assertThat(c.db().migrate()).isTrue();
    }

    @Test
    void theFileOverridesDefaultsAndTheEnvironmentOverridesTheFile() throws IOException {
        Path f = file(
                """
        TF_HTTP_PORT: 9080
        https_port: 9443
        trial-days: 30
        smtp.host: mail.internal
        owner_emails: [Boss@Example.com, other@example.com]
        """);
        AppConfig fromFile = ConfigLoader.load(Map.of(), Optional.of(f));
        assertThat(fromFile.http().httpPort()).isEqualTo(9080);
        assertThat(fromFile.http().httpsPort()).isEqualTo(9443);
        assertThat(fromFile.billing().trialDays()).isEqualTo(30);
        assertThat(fromFile.email().smtpHost()).isEqualTo("mail.internal");
        assertThat(fromFile.auth().ownerEmails()).containsExactlyInAnyOrder("boss@example.com", "other@example.com");

        AppConfig withEnv = ConfigLoader.load(Map.of("TF_HTTP_PORT", "7080", "TF_TRIAL_DAYS", "7"), Optional.of(f));
        assertThat(withEnv.http().httpPort()).isEqualTo(7080);
        assertThat(withEnv.billing().trialDays()).isEqualTo(7);
        assertThat(withEnv.http().httpsPort())
                .as("untouched by env, still from the file")
                .isEqualTo(9443);
    }

    @Test
    void theHttpAndHttpsPortsMustDiffer() {
        assertThatThrownBy(() -> env(Map.of("TF_HTTP_PORT", "9443", "TF_HTTPS_PORT", "9443")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("TF_HTTPS_PORT")
                .hasMessageContaining("same port as TF_HTTP_PORT");
    }

    @Test
    void anUnknownKeyInTheFileStopsStartUpNamingIt() throws IOException {
        Path f = file("http_port: 9080\nhttp_prot: 9081\n");
        assertThatThrownBy(() -> ConfigLoader.load(Map.of(), Optional.of(f)))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("http_prot");
    }

    @Test
    void aFileThatIsNotAMappingOrNotYamlFails() throws IOException {
        Path list = file("- a\n- b\n");
        assertThatThrownBy(() -> ConfigLoader.load(Map.of(), Optional.of(list))).isInstanceOf(ConfigException.class);
        Path broken = file("http_port: [unclosed\n");
        assertThatThrownBy(() -> ConfigLoader.load(Map.of(), Optional.of(broken)))
                .isInstanceOf(ConfigException.class);
    }

    @Test
    void emailLinksFollowThePublicUrlUnlessAnAppUrlIsSet() {
        AppConfig same = env(Map.of("TF_PUBLIC_URL", "https://api.example.com/"));
        assertThat(same.links().appUrl().toString()).isEqualTo("https://api.example.com/");
        assertThat(same.links().appLink("/verify-email?token=t"))
                .isEqualTo("https://api.example.com/verify-email?token=t");
        assertThat(same.links().servesEmailPages()).isTrue();
        // The same base written differently is still this server.
        assertThat(env(Map.of("TF_PUBLIC_URL", "https://API.example.com", "TF_APP_URL", "https://api.example.com:443/"))
                        .links()
                        .servesEmailPages())
                .isTrue();

        AppConfig app =
                env(Map.of("TF_PUBLIC_URL", "https://api.example.com", "TF_APP_URL", "https://app.example.com/web/"));
        assertThat(app.links().appLink("/reset-password?token=t"))
                .isEqualTo("https://app.example.com/web/reset-password?token=t");
        assertThat(app.links().publicUrl().toString()).isEqualTo("https://api.example.com");
        assertThat(app.links().servesEmailPages()).isFalse();
    }

    @Test
    void anAppUrlThatCannotPrefixALinkIsRefused() {
        for (String bad : new String[] {
            "app.example.com",
            "ftp://app.example.com",
            "https://app.example.com/?ref=mail",
            "https://app.example.com/#top",
            "https://user@app.example.com"
        }) {
            assertThatThrownBy(() -> env(Map.of("TF_APP_URL", bad)))
                    .as(bad)
                    .isInstanceOf(ConfigException.class)
                    .hasMessageStartingWith("setting TF_APP_URL is invalid");
        }
    }

    @Test
    void supportStaffAreTheirOwnListAndOwnersAreStaffToo() {
        AppConfig c = env(Map.of(
                "TF_OWNER_EMAILS", "Boss@Example.com", "TF_SUPPORT_EMAILS", " Help@Example.com , desk@example.com "));
        assertThat(c.auth().supportEmails()).containsExactlyInAnyOrder("help@example.com", "desk@example.com");
        assertThat(c.auth().isSupportEmail("HELP@example.com")).isTrue();
        assertThat(c.auth().isOwnerEmail("help@example.com")).isFalse();
        assertThat(c.auth().isStaffEmail("help@example.com")).isTrue();
        assertThat(c.auth().isStaffEmail("boss@example.com")).isTrue();
        assertThat(c.auth().isStaffEmail("someone@example.com")).isFalse();
    }

    @Test
    void malformedValuesFailWithOneLineNamingTheSetting() {
        Map<String, String> bad = Map.ofEntries(
                Map.entry("TF_HTTP_PORT", "eighty"),
                Map.entry("TF_HTTPS_PORT", "70000"),
                Map.entry("TF_PUBLIC_URL", "ftp://example.com"),
                Map.entry("TF_TRIAL_DAYS", "-1"),
                Map.entry("TF_MIGRATE", "maybe"),
                Map.entry("TF_SMTP_STARTTLS", "sometimes"),
                Map.entry("TF_TRUSTED_PROXIES", "10.0.0.0/99"),
                Map.entry("TF_EMAIL_ALERT_FAILURE_RATE", "2"),
                Map.entry("TF_ACCESS_TOKEN_TTL_SECONDS", "0"),
                Map.entry("TF_UPLOAD_MAX_BYTES", "lots"),
                Map.entry("TF_LOG_FORMAT", "xml"),
                Map.entry("TF_REDIS_URL", "http://127.0.0.1:6379"),
                Map.entry("TF_OWNER_EMAILS", "boss@example.com, not-an-address"),
                Map.entry("TF_SUPPORT_EMAILS", "help@example.com;desk@example.com"));
        bad.forEach((name, value) -> assertThatThrownBy(() -> env(Map.of(name, value)))
                .as(name)
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(name)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n")));
    }

    /** Whoever answers for a provider's key set can sign ID tokens for anyone: HTTPS, or this machine only. */
    @Test
    void signInKeySetsAreFetchedOverHttpsOrFromThisMachineOnly() {
        for (String name : new String[] {"TF_GOOGLE_JWKS_URL", "TF_APPLE_JWKS_URL"}) {
            assertThatThrownBy(() -> env(Map.of(name, "http://keys.example.com/certs")))
                    .as(name)
                    .isInstanceOf(ConfigException.class)
                    .hasMessageContaining(name)
                    .hasMessageContaining("https");
        }
        AppConfig c = env(Map.of(
                "TF_GOOGLE_JWKS_URL",
                "http://127.0.0.1:9999/certs",
                "TF_APPLE_JWKS_URL",
                "http://localhost:9998/keys"));
        assertThat(c.auth().googleJwksUrl()).isEqualTo("http://127.0.0.1:9999/certs");
        assertThat(c.auth().appleJwksUrl()).isEqualTo("http://localhost:9998/keys");
        assertThat(env(Map.of()).auth().googleJwksUrl()).isEqualTo("https://www.googleapis.com/oauth2/v3/certs");
        assertThatThrownBy(() -> env(Map.of("TF_GOOGLE_CLIENT_IDS", "web.test", "TF_GOOGLE_ISSUERS", " , ")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("TF_GOOGLE_ISSUERS");
        assertThat(env(Map.of("TF_GOOGLE_CLIENT_IDS", "web.test")).auth().googleIssuers())
                .containsExactly("https://accounts.google.com", "accounts.google.com");
    }

    @Test
    void auditCheckpointsGoToTheContractsDirectoryEveryFiveMinutesAndABadIntervalStopsStartUp() {
        AppConfig.AuditSettings defaults = env(Map.of()).audit();
        assertThat(defaults.anchorDir()).isEqualTo(java.nio.file.Path.of("./data/audit-anchors"));
        assertThat(defaults.checkpointInterval()).isEqualTo(java.time.Duration.ofMinutes(5));
        assertThat(defaults.s3()).isEmpty();
        AppConfig.AuditSettings set = env(Map.of(
                        "TF_AUDIT_ANCHOR_DIR", "/var/lib/tf/anchors", "TF_AUDIT_CHECKPOINT_SECONDS", "60"))
                .audit();
        assertThat(set.anchorDir()).isEqualTo(java.nio.file.Path.of("/var/lib/tf/anchors"));
        assertThat(set.checkpointInterval()).isEqualTo(java.time.Duration.ofMinutes(1));
        for (String bad : new String[] {"0", "-5", "often", "", "86401"}) {
            assertThatThrownBy(() -> env(Map.of("TF_AUDIT_CHECKPOINT_SECONDS", bad)))
                    .as(bad)
                    .isInstanceOf(ConfigException.class)
                    .hasMessageContaining("TF_AUDIT_CHECKPOINT_SECONDS")
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        }
        assertThatThrownBy(() -> env(Map.of("TF_AUDIT_ANCHOR_DIR", "")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("TF_AUDIT_ANCHOR_DIR");
    }

    @Test
    void connectionLimitsDefaultToTheContractAndABadCapStopsStartUp() {
        AppConfig.HttpLimits defaults = env(Map.of()).http().limits();
        assertThat(defaults.maxConnectionsPerIp()).isEqualTo(256);
        assertThat(defaults.headTimeout()).isEqualTo(java.time.Duration.ofSeconds(10));
        assertThat(defaults.minBodyBytesPerWindow()).isEqualTo(5000);
        assertThat(env(Map.of("TF_MAX_CONNECTIONS_PER_IP", "32"))
                        .http()
                        .limits()
                        .maxConnectionsPerIp())
                .isEqualTo(32);
        for (String bad : new String[] {"0", "-5", "many", ""}) {
            assertThatThrownBy(() -> env(Map.of("TF_MAX_CONNECTIONS_PER_IP", bad)))
                    .as(bad)
                    .isInstanceOf(ConfigException.class)
                    .hasMessageContaining("TF_MAX_CONNECTIONS_PER_IP")
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        }
    }

    @Test
    void aSecretsValueNeverAppearsInTheMessage() {
        String shortKey = Base64.getEncoder().encodeToString("sixteen-byte-key".getBytes());
        Map<String, String> secrets = Map.of(
                "TF_DATA_KEY", shortKey,
                "TF_DATA_KEY_PREVIOUS", Base64.getEncoder().encodeToString(new byte[32]) + "," + shortKey,
                "TF_URL_SIGNING_KEY", "not*base64*signing-secret-value",
                "TF_STRIPE_WEBHOOK_SECRET", "sk_live_notawebhooksecret123",
                "TF_EMAIL_WEBHOOK_SECRET", "plain-email-secret-value",
                "TF_JWT_PRIVATE_KEY", "this-is-not-a-pem-but-secret",
                "TF_DB_URL", "mysql://tf_app:db-password-value@db:3306/tf",
                "TF_REDIS_URL", "memcache://:redis-password-value@cache:6379");
        secrets.forEach((name, value) -> assertThatThrownBy(() -> env(Map.of(name, value)))
                .as(name)
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(name)
                .satisfies(e -> assertThat(e.getMessage())
                        .doesNotContain(value)
                        .doesNotContain("password-value")
                        .doesNotContain("secret123")));
    }

    @Test
    void aBadSecretInTheFileIsNotPrintedEither() throws IOException {
        Path f = file("stripe_webhook_secret: whsec_ok_but, wrongsecretvalue\n");
        assertThatThrownBy(() -> ConfigLoader.load(Map.of(), Optional.of(f)))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("TF_STRIPE_WEBHOOK_SECRET")
                .satisfies(e -> assertThat(e.getMessage())
                        .doesNotContain("wrongsecretvalue")
                        .doesNotContain("whsec_ok_but"));
    }

    @Test
    void webhookSecretsMayBeSeveralDuringRotation() {
        AppConfig c = env(Map.of("TF_STRIPE_WEBHOOK_SECRET", "whsec_aaaaaaaaaaaa, whsec_bbbbbbbbbbbb"));
        assertThat(c.billing().stripeWebhookSecrets()).containsExactly("whsec_aaaaaaaaaaaa", "whsec_bbbbbbbbbbbb");
    }

    @Test
    void aGoodDataKeyIsDecoded() {
        byte[] key = new byte[32];
        key[0] = 7;
        AppConfig c = env(Map.of("TF_DATA_KEY", Base64.getEncoder().encodeToString(key)));
        assertThat(c.keys().dataKey())
                .hasValueSatisfying(k -> assertThat(k).hasSize(32).startsWith(7));
    }

    @Test
    void previousDataKeysAreAListBeingRotatedOut() {
        Base64.Encoder b64 = Base64.getEncoder();
        AppConfig c = env(Map.of(
                "TF_DATA_KEY_PREVIOUS", b64.encodeToString(new byte[32]) + ", " + b64.encodeToString(new byte[32])));
        assertThat(c.storage().previousDataKeys()).hasSize(2);
        assertThat(env(Map.of()).storage().previousDataKeys()).isEmpty();
    }

    @Test
    void documentsGoToS3OnlyWhenABucketIsNamedWithCredentialsInPairs() {
        assertThat(env(Map.of()).storage().s3()).isEmpty();
        AppConfig c = env(Map.of("TF_S3_BUCKET", "tf-docs", "TF_S3_ENDPOINT", "http://127.0.0.1:9000"));
        assertThat(c.storage().s3()).hasValueSatisfying(s3 -> {
            assertThat(s3.bucket()).isEqualTo("tf-docs");
            assertThat(s3.region()).isEqualTo("eu-west-2");
            assertThat(s3.accessKeyId()).isEmpty();
        });
        assertThatThrownBy(() -> env(Map.of("TF_S3_BUCKET", "Not_A_Bucket"))).hasMessageContaining("TF_S3_BUCKET");
        assertThatThrownBy(
                        () -> env(Map.of("TF_S3_BUCKET", "tf-docs", "TF_S3_SECRET_ACCESS_KEY", "s3-secret-value-xyz")))
                .hasMessageContaining("TF_S3_ACCESS_KEY_ID")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("s3-secret-value-xyz"));
        AppConfig withKeys = env(Map.of(
                "TF_S3_BUCKET",
                "tf-docs",
                "TF_S3_ACCESS_KEY_ID",
                "AKIAEXAMPLE",
                "TF_S3_SECRET_ACCESS_KEY",
                "s3-secret-value-xyz"));
        assertThat(withKeys.storage().s3().orElseThrow().toString()).doesNotContain("s3-secret-value-xyz");
    }

    @Test
    void printingTheWholeConfigShowsNoSecret() {
        AppConfig c = env(Map.of(
                "TF_STRIPE_SECRET_KEY",
                "sk_test_printed_key_value",
                "TF_SMTP_PASSWORD",
                "smtp-password-value",
                "TF_METRICS_TOKEN",
                "metrics-token-value-123",
                "TF_DB_URL",
                "postgresql://tf_app:db-password-value@db:5432/tf",
                "TF_EMAIL_WEBHOOK_SECRET",
                "whsec_ZW1haWwtd2ViaG9vay1zZWNyZXQ="));
        assertThat(c.toString())
                .contains("stripe=configured")
                .doesNotContain("sk_test_printed_key_value")
                .doesNotContain("smtp-password-value")
                .doesNotContain("metrics-token-value-123")
                .doesNotContain("db-password-value")
                .doesNotContain("ZW1haWwtd2ViaG9vay1zZWNyZXQ");
    }

    @Test
    void aTlsCertificateWithoutItsKeyFails() throws IOException {
        Path cert = Files.writeString(dir.resolve("cert.pem"), "-----BEGIN CERTIFICATE-----\n");
        assertThatThrownBy(() -> env(Map.of("TF_TLS_CERT", cert.toString())))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("TF_TLS_KEY");
        assertThatThrownBy(() -> env(Map.of(
                        "TF_TLS_CERT",
                        cert.toString(),
                        "TF_TLS_KEY",
                        dir.resolve("missing.pem").toString())))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("TF_TLS_KEY");
    }

    @Test
    void unknownEnvironmentVariablesWithTheSharedPrefixAreIgnored() {
        // Terraform and other tools use TF_ too (TF_LOG, TF_VAR_x); failing on them would break hosts.
        assertThat(env(Map.of("TF_LOG", "debug", "TF_VAR_region", "eu")).http().httpPort())
                .isEqualTo(8080);
    }

    @Test
    void otherToolsVariablesPassSilentlyWhileAMisspeltSettingIsWarnedAbout() {
        Map<String, String> terraformAndTensorflow = new java.util.HashMap<>();
        for (String name : java.util.List.of(
                "TF_CLI_CONFIG_FILE",
                "TF_VAR_region",
                "TF_LOG",
                "TF_IN_AUTOMATION",
                "TF_INPUT",
                "TF_DATA_DIR",
                "TF_WORKSPACE",
                "TF_PLUGIN_CACHE_DIR",
                "TF_TOKEN_app_terraform_io",
                "TF_CLI_ARGS_plan",
                "TF_LOG_PATH",
                "TF_CPP_MIN_LOG_LEVEL")) {
            terraformAndTensorflow.put(name, "x");
        }
        terraformAndTensorflow.put("TF_HTTPS_PROT", "9443");
        try (uk.co.tradersflow.support.LogCapture logs = new uk.co.tradersflow.support.LogCapture()) {
            assertThat(env(terraformAndTensorflow).http().httpsPort()).isEqualTo(8443);
            assertThat(logs.text()).contains("ignoring unknown environment variable TF_HTTPS_PROT");
            assertThat(logs.text().lines().filter(l -> l.contains("unknown environment variable")))
                    .hasSize(1);
        }
    }

    @Test
    void theListenerSettingsDefaultToAllInterfacesNoBrowserOriginsAndAFiveSecondDrain() {
        AppConfig.HttpSettings http = env(Map.of()).http();
        assertThat(http.bindAddress()).isEqualTo("0.0.0.0");
        assertThat(http.corsOrigins()).isEmpty();
        assertThat(http.shutdownDrain()).isEqualTo(Duration.ofSeconds(5));
    }

    @Test
    void theListenerSettingsParseAndABadValueNamesTheSetting() {
        AppConfig.HttpSettings http = env(Map.of(
                        "TF_BIND_ADDRESS",
                        "127.0.0.1",
                        "TF_CORS_ORIGINS",
                        "https://app.example.com, http://localhost:5173",
                        "TF_SHUTDOWN_DRAIN_SECONDS",
                        "0"))
                .http();
        assertThat(http.bindAddress()).isEqualTo("127.0.0.1");
        assertThat(http.corsOrigins()).containsExactly("https://app.example.com", "http://localhost:5173");
        assertThat(http.shutdownDrain()).isZero();
        assertThat(env(Map.of("TF_BIND_ADDRESS", "::")).http().bindAddress()).isEqualTo("::");

        assertThatThrownBy(() -> env(Map.of("TF_BIND_ADDRESS", "example.com")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("TF_BIND_ADDRESS");
        for (String bad : java.util.List.of(
                "*",
                "https://app.example.com/",
                "https://app.example.com/path",
                "app.example.com",
                "ftp://app.example.com",
                "https://user@app.example.com",
                "https://app.example.com:443",
                "http://localhost:80")) {
            assertThatThrownBy(() -> env(Map.of("TF_CORS_ORIGINS", bad)))
                    .as(bad)
                    .isInstanceOf(ConfigException.class)
                    .hasMessageContaining("TF_CORS_ORIGINS");
        }
        assertThatThrownBy(() -> env(Map.of("TF_SHUTDOWN_DRAIN_SECONDS", "-1")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("TF_SHUTDOWN_DRAIN_SECONDS");
    }

    @Test
    void redisIsOneServerByDefaultAClusterOrSentinelsTakeAListAndBadModesOrListsStopStartUp() {
        AppConfig.RedisSettings defaults = env(Map.of()).redis();
        assertThat(defaults.mode()).isEqualTo(AppConfig.RedisSettings.RedisMode.STANDALONE);
        assertThat(defaults.urls()).containsExactly("redis://127.0.0.1:6379");
        assertThat(defaults.masterName()).isEqualTo("mymaster");

        AppConfig.RedisSettings cluster = env(Map.of(
                        "TF_REDIS_MODE", "cluster",
                        "TF_REDIS_URL", "redis://10.0.0.1:6379, redis://10.0.0.2:6379 ,rediss://:pw@10.0.0.3:6380"))
                .redis();
        assertThat(cluster.mode()).isEqualTo(AppConfig.RedisSettings.RedisMode.CLUSTER);
        assertThat(cluster.urls())
                .containsExactly("redis://10.0.0.1:6379", "redis://10.0.0.2:6379", "rediss://:pw@10.0.0.3:6380");
        assertThat(cluster.toString()).doesNotContain("pw");

        AppConfig.RedisSettings sentinel = env(Map.of(
                        "TF_REDIS_MODE", "SENTINEL",
                        "TF_REDIS_URL", "redis://s1:26379,redis://s2:26379",
                        "TF_REDIS_MASTER_NAME", "tf-main"))
                .redis();
        assertThat(sentinel.mode()).isEqualTo(AppConfig.RedisSettings.RedisMode.SENTINEL);
        assertThat(sentinel.urls()).hasSize(2);
        assertThat(sentinel.masterName()).isEqualTo("tf-main");

        Map<Map<String, String>, String> bad = Map.of(
                Map.of("TF_REDIS_MODE", "replicated"), "TF_REDIS_MODE",
                Map.of("TF_REDIS_URL", "redis://a:6379,redis://b:6379"), "TF_REDIS_URL",
                Map.of("TF_REDIS_MODE", "cluster", "TF_REDIS_URL", "redis://a:6379,http://b:6379"), "TF_REDIS_URL",
                Map.of("TF_REDIS_MODE", "cluster", "TF_REDIS_URL", " , "), "TF_REDIS_URL",
                Map.of("TF_REDIS_MODE", "sentinel", "TF_REDIS_MASTER_NAME", "my master"), "TF_REDIS_MASTER_NAME",
                Map.of("TF_REDIS_MODE", "cluster", "TF_REDIS_KEY_PREFIX", "{tf}:"), "TF_REDIS_KEY_PREFIX");
        bad.forEach((settings, name) -> assertThatThrownBy(() -> env(settings))
                .as("%s", settings)
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(name)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n")));
        assertThatThrownBy(() -> env(Map.of("TF_REDIS_URL", "redis://:secret-pw@a:6379,redis://b:6379")))
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("secret-pw"));
    }

    @Test
    void theExtraOperationalSettingsParse() {
        AppConfig c = env(Map.of(
                "TF_DB_POOL_SIZE",
                "32",
                "TF_MIGRATE",
                "false",
                "TF_REDIS_KEY_PREFIX",
                "prod:",
                "TF_DEV_DATA_DIR",
                "/tmp/x",
                "TF_HTTP_INSTANCES",
                "3",
                "TF_LOG_FORMAT",
                "json"));
        assertThat(c.db().poolSize()).isEqualTo(32);
        assertThat(c.db().migrate()).isFalse();
        assertThat(c.redis().keyPrefix()).isEqualTo("prod:");
        assertThat(c.ops().devDataDir()).isEqualTo(Path.of("/tmp/x"));
        assertThat(c.http().instances()).isEqualTo(3);
        assertThatThrownBy(() -> env(Map.of("TF_DB_POOL_SIZE", "0"))).hasMessageContaining("TF_DB_POOL_SIZE");
    }

    @Test
    void aJsonFileIsReadLikeYaml() throws IOException {
        Path json = Files.writeString(dir.resolve("application.json"), "{\"TF_HTTP_PORT\": 6080, \"trial_days\": 3}");
        AppConfig c = ConfigLoader.load(Map.of(), Optional.of(json));
        assertThat(c.http().httpPort()).isEqualTo(6080);
        assertThat(c.billing().trialDays()).isEqualTo(3);
    }

    @Test
    void aNamedConfigFileMustExist() throws IOException {
        assertThatThrownBy(() -> ConfigLoader.configFile(
                        Map.of("TF_CONFIG_FILE", dir.resolve("nope.yaml").toString())))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("TF_CONFIG_FILE");
        Path f = file("http_port: 1\n");
        assertThat(ConfigLoader.configFile(Map.of("TF_CONFIG_FILE", f.toString())))
                .contains(f);
    }

    @Test
    void theLogFormatInTheFileIsRefusedBecauseLoggingStartsFromTheEnvironment() throws IOException {
        Path f = file("log_format: json\n");
        assertThatThrownBy(() -> ConfigLoader.load(Map.of(), Optional.of(f)))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("TF_LOG_FORMAT")
                .hasMessageContaining("environment");
    }
}
