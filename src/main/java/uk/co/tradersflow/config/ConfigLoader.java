package uk.co.tradersflow.config;

import java.io.IOException;
import java.io.Reader;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * Reads settings in the contract's order: built-in defaults, then {@code conf/application.yaml}
 * (keys are the variable names, with or without {@code TF_}, any case), then {@code TF_*}
 * environment variables. Each value is parsed once; a bad one fails with a message naming the
 * setting, and the value itself only when the setting is not a secret.
 */
public final class ConfigLoader {
    private static final Logger log = LoggerFactory.getLogger(ConfigLoader.class);

    private static final Map<String, String> DEFAULTS = new LinkedHashMap<>();

    static {
        DEFAULTS.put("TF_HTTP_PORT", "8080");
        DEFAULTS.put("TF_HTTPS_PORT", "8443");
        DEFAULTS.put("TF_TLS_CERT", "");
        DEFAULTS.put("TF_TLS_KEY", "");
        DEFAULTS.put("TF_PUBLIC_URL", "https://localhost:8443");
        DEFAULTS.put("TF_APP_URL", "");
        DEFAULTS.put("TF_DB_URL", "postgresql://tf_app@127.0.0.1:5432/tradersflow");
        DEFAULTS.put("TF_DB_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/tradersflow");
        DEFAULTS.put("TF_DB_WORKER_URL", "");
        DEFAULTS.put("TF_DB_POOL_SIZE", "16");
        DEFAULTS.put("TF_MIGRATE", "true");
        DEFAULTS.put("TF_REDIS_URL", "redis://127.0.0.1:6379");
        DEFAULTS.put("TF_REDIS_KEY_PREFIX", "tf:");
        DEFAULTS.put("TF_REDIS_MODE", "standalone");
        DEFAULTS.put("TF_REDIS_MASTER_NAME", "mymaster");
        DEFAULTS.put("TF_OWNER_EMAILS", "");
        DEFAULTS.put("TF_SUPPORT_EMAILS", "");
        DEFAULTS.put("TF_JWT_PRIVATE_KEY", "");
        DEFAULTS.put("TF_JWT_PREVIOUS_KEYS", "");
        DEFAULTS.put("TF_DATA_KEY", "");
        DEFAULTS.put("TF_DATA_KEY_PREVIOUS", "");
        DEFAULTS.put("TF_URL_SIGNING_KEY", "");
        DEFAULTS.put("TF_STRIPE_SECRET_KEY", "");
        DEFAULTS.put("TF_STRIPE_API_BASE", "");
        DEFAULTS.put("TF_STRIPE_WEBHOOK_SECRET", "");
        DEFAULTS.put("TF_STRIPE_PRICE_ID", "");
        DEFAULTS.put("TF_TRIAL_DAYS", "14");
        DEFAULTS.put("TF_STRIPE_TIMEOUT_MS", "10000");
        DEFAULTS.put("TF_SMTP_HOST", "127.0.0.1");
        DEFAULTS.put("TF_SMTP_PORT", "1025");
        DEFAULTS.put("TF_SMTP_USER", "");
        DEFAULTS.put("TF_SMTP_PASSWORD", "");
        DEFAULTS.put("TF_SMTP_STARTTLS", "optional");
        DEFAULTS.put("TF_MAIL_FROM", "TradersFlow <no-reply@localhost>");
        DEFAULTS.put("TF_EMAIL_WEBHOOK_SECRET", "");
        DEFAULTS.put("TF_GOOGLE_CLIENT_IDS", "");
        DEFAULTS.put("TF_GOOGLE_JWKS_URL", "https://www.googleapis.com/oauth2/v3/certs");
        DEFAULTS.put("TF_GOOGLE_ISSUERS", "https://accounts.google.com,accounts.google.com");
        DEFAULTS.put("TF_APPLE_CLIENT_IDS", "");
        DEFAULTS.put("TF_APPLE_JWKS_URL", "https://appleid.apple.com/auth/keys");
        DEFAULTS.put("TF_STORAGE_DIR", "./data/files");
        DEFAULTS.put("TF_S3_BUCKET", "");
        DEFAULTS.put("TF_S3_REGION", "eu-west-2");
        DEFAULTS.put("TF_S3_ENDPOINT", "");
        DEFAULTS.put("TF_S3_ACCESS_KEY_ID", "");
        DEFAULTS.put("TF_S3_SECRET_ACCESS_KEY", "");
        DEFAULTS.put("TF_UPLOAD_MAX_BYTES", "20971520");
        DEFAULTS.put("TF_SIGNED_URL_TTL_SECONDS", "300");
        DEFAULTS.put("TF_ACCESS_TOKEN_TTL_SECONDS", "900");
        DEFAULTS.put("TF_REFRESH_TOKEN_TTL_SECONDS", "2592000");
        DEFAULTS.put("TF_REFRESH_REUSE_GRACE_SECONDS", "10");
        DEFAULTS.put("TF_LOGIN_MAX_FAILURES", "5");
        DEFAULTS.put("TF_LOGIN_LOCKOUT_SECONDS", "900");
        DEFAULTS.put("TF_LOGIN_IP_LIMIT_PER_MINUTE", "30");
        DEFAULTS.put("TF_API_RATE_PER_SECOND", "50");
        DEFAULTS.put("TF_API_BURST", "100");
        DEFAULTS.put("TF_TRUSTED_PROXIES", "");
        DEFAULTS.put("TF_EMAIL_MAX_ATTEMPTS", "6");
        DEFAULTS.put("TF_EMAIL_RETRY_BASE_SECONDS", "30");
        DEFAULTS.put("TF_EMAIL_ALERT_FAILURE_RATE", "0.05");
        DEFAULTS.put("TF_EMAIL_ALERT_WINDOW_SECONDS", "3600");
        DEFAULTS.put("TF_METRICS_TOKEN", "");
        DEFAULTS.put("TF_DEV_DATA_DIR", "./data/dev");
        DEFAULTS.put("TF_DEV_MAIL", "auto");
        DEFAULTS.put("TF_HTTP_INSTANCES", "0");
        DEFAULTS.put("TF_LOG_FORMAT", "text");
        DEFAULTS.put("TF_BIND_ADDRESS", "0.0.0.0");
        DEFAULTS.put("TF_CORS_ORIGINS", "");
        DEFAULTS.put("TF_SHUTDOWN_DRAIN_SECONDS", "5");
        DEFAULTS.put("TF_MAX_CONNECTIONS_PER_IP", "256");
        DEFAULTS.put("TF_HTTP_HEAD_TIMEOUT_MS", "10000");
        DEFAULTS.put("TF_HTTP_BODY_WINDOW_MS", "10000");
        DEFAULTS.put("TF_AUDIT_ANCHOR_DIR", "./data/audit-anchors");
        DEFAULTS.put("TF_AUDIT_CHECKPOINT_SECONDS", "300");
    }

    /**
     * Other tools' variables that share the prefix (Terraform's, and TensorFlow's): set on the same
     * host or CI runner, they are none of this server's business, so they pass without a warning.
     * Anything else unknown is most likely a misspelt setting of ours, which is worth a WARN.
     */
    private static final Set<String> FOREIGN_NAMES = Set.of(
            "TF_LOG",
            "TF_LOG_PATH",
            "TF_LOG_CORE",
            "TF_LOG_PROVIDER",
            "TF_INPUT",
            "TF_IN_AUTOMATION",
            "TF_DATA_DIR",
            "TF_WORKSPACE",
            "TF_PLUGIN_CACHE_DIR",
            "TF_PLUGIN_CACHE_MAY_BREAK_DEPENDENCY_LOCK_FILE",
            "TF_CLI_CONFIG_FILE",
            "TF_CLI_ARGS",
            "TF_IGNORE",
            "TF_REGISTRY_DISCOVERY_RETRY",
            "TF_REGISTRY_CLIENT_TIMEOUT",
            "TF_STATE_PERSIST_INTERVAL",
            "TF_APPEND_USER_AGENT",
            "TF_ACC",
            "TF_REATTACH_PROVIDERS",
            "TF_SKIP_PROVIDER_VERIFY",
            "TF_WARN_OUTPUT_ERRORS",
            "TF_FORCE_LOCAL_BACKEND",
            "TF_CLOUD_ORGANIZATION",
            "TF_CLOUD_PROJECT",
            "TF_CLOUD_HOSTNAME",
            "TF_ENABLE_ONEDNN_OPTS",
            "TF_FORCE_GPU_ALLOW_GROWTH",
            "TF_GPU_ALLOCATOR",
            "TF_NUM_INTEROP_THREADS",
            "TF_NUM_INTRAOP_THREADS");
    /** Families of them: Terraform's input variables, per-command arguments, per-host tokens; TensorFlow's C++ logging and XLA. */
    private static final List<String> FOREIGN_PREFIXES =
            List.of("TF_VAR_", "TF_CLI_ARGS_", "TF_TOKEN_", "TF_LOG_PROVIDER_", "TF_CPP_", "TF_XLA_");

    static boolean isOtherToolsVariable(String name) {
        return FOREIGN_NAMES.contains(name) || FOREIGN_PREFIXES.stream().anyMatch(name::startsWith);
    }

    /** Settings whose values must never be printed: keys, secrets, passwords, URLs that may hold one. */
    private static final Set<String> SECRETS = Set.of(
            "TF_JWT_PRIVATE_KEY",
            "TF_JWT_PREVIOUS_KEYS",
            "TF_DATA_KEY",
            "TF_DATA_KEY_PREVIOUS",
            "TF_URL_SIGNING_KEY",
            "TF_STRIPE_SECRET_KEY",
            "TF_STRIPE_WEBHOOK_SECRET",
            "TF_SMTP_PASSWORD",
            "TF_S3_SECRET_ACCESS_KEY",
            "TF_EMAIL_WEBHOOK_SECRET",
            "TF_METRICS_TOKEN",
            "TF_DB_URL",
            "TF_DB_ADMIN_URL",
            "TF_DB_WORKER_URL",
            "TF_REDIS_URL");

    private static final String FILE_SUFFIX = "_FILE";
    /**
     * Lists of keys being retired: empty is their normal state between rotations (and what
     * {@code rotate-jwt-key --no-overlap} writes). Any other empty secret file is a mistake.
     */
    private static final Set<String> MAY_BE_EMPTY = Set.of("TF_JWT_PREVIOUS_KEYS_FILE", "TF_DATA_KEY_PREVIOUS_FILE");

    private static final Set<PosixFilePermission> OWNER_READ_WRITE =
            Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);

    /**
     * A body slower than this on average over a window is a slow-body attack, not a client: a
     * phone on 2G uploads at several kilobytes a second (Apache's mod_reqtimeout uses 500 too).
     */
    static final int MIN_BODY_BYTES_PER_SECOND = 500;

    private final Map<String, String> values;

    private ConfigLoader(Map<String, String> values) {
        this.values = values;
    }

    /** Loads from the real environment and {@code conf/application.yaml} (or {@code TF_CONFIG_FILE}). */
    public static AppConfig load() {
        Map<String, String> env = System.getenv();
        return load(env, configFile(env));
    }

    /** {@code TF_CONFIG_FILE} if set (it must exist), else {@code conf/application.yaml}, else {@code conf/application.json}. */
    public static Optional<Path> configFile(Map<String, String> env) {
        String named = env.getOrDefault("TF_CONFIG_FILE", "").trim();
        if (!named.isEmpty()) {
            Path file = Path.of(named);
            if (!Files.isRegularFile(file)) {
                throw new ConfigException("setting TF_CONFIG_FILE is invalid: no such file " + file);
            }
            return Optional.of(file);
        }
        // JSON is YAML, so one reader serves both.
        return java.util.stream.Stream.of("conf/application.yaml", "conf/application.yml", "conf/application.json")
                .map(Path::of)
                .filter(Files::isRegularFile)
                .findFirst();
    }

    public static AppConfig load(Map<String, String> env, Optional<Path> file) {
        Map<String, String> explicit = new TreeMap<>();
        file.ifPresent(f -> explicit.putAll(readFile(f)));
        env.forEach((name, value) -> {
            if (!name.startsWith("TF_") || name.equals("TF_CONFIG_FILE")) {
                return;
            }
            if (DEFAULTS.containsKey(name) || isSecretFileSetting(name)) {
                explicit.put(name, value);
            } else if (!isOtherToolsVariable(name)) {
                // Other tools share the TF_ prefix, so an unknown name warns rather than fails.
                log.warn("ignoring unknown environment variable {}", name);
            }
        });
        Map<String, String> merged = new TreeMap<>(DEFAULTS);
        merged.putAll(readSecretFiles(explicit));
        return new ConfigLoader(merged).parse();
    }

    /** The settings whose values are secrets; each may also be given as {@code TF_<NAME>_FILE}. */
    public static Set<String> secretSettings() {
        return SECRETS;
    }

    /** {@code TF_<SECRET>_FILE}: the secret's value is in that file (Docker and Kubernetes secrets, Vault Agent). */
    private static boolean isSecretFileSetting(String name) {
        return name.endsWith(FILE_SUFFIX) && SECRETS.contains(name.substring(0, name.length() - FILE_SUFFIX.length()));
    }

    /**
     * Replaces each {@code TF_<SECRET>_FILE} by {@code TF_<SECRET>} holding the file's content,
     * trailing line breaks trimmed (editors and {@code echo} add one; no secret ends with one).
     * Setting both is refused rather than one silently winning, since the one ignored would be the
     * one somebody believes is in force. A file others may read is still used, with a warning:
     * refusing would turn a hardening advice into an outage.
     */
    private static Map<String, String> readSecretFiles(Map<String, String> explicit) {
        Map<String, String> out = new TreeMap<>();
        explicit.forEach((name, value) -> {
            if (!isSecretFileSetting(name)) {
                out.putIfAbsent(name, value);
                return;
            }
            String secret = name.substring(0, name.length() - FILE_SUFFIX.length());
            if (value.isBlank()) {
                return;
            }
            if (!explicit.getOrDefault(secret, "").isBlank()) {
                throw new ConfigException(
                        "setting " + secret + " is set twice, directly and through " + name + ": keep one");
            }
            out.put(secret, readSecretFile(name, Path.of(value.trim())));
        });
        return out;
    }

    private static String readSecretFile(String setting, Path file) {
        String content;
        try {
            content = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            throw new ConfigException("setting " + setting + " is invalid: cannot read the file " + file);
        }
        try {
            Set<PosixFilePermission> mode = Files.getPosixFilePermissions(file);
            if (!OWNER_READ_WRITE.containsAll(mode)) {
                log.warn(
                        "secret file {} ({}) has mode {}: others than its owner may read it; make it 0600 or tighter",
                        file,
                        setting,
                        PosixFilePermissions.toString(mode));
            }
        } catch (IOException | UnsupportedOperationException e) {
            // No POSIX modes here (another file system): nothing to compare against.
        }
        int end = content.length();
        while (end > 0 && (content.charAt(end - 1) == '\n' || content.charAt(end - 1) == '\r')) {
            end--;
        }
        if (end == 0 && !MAY_BE_EMPTY.contains(setting)) {
            throw new ConfigException("setting " + setting + " is invalid: the file " + file + " is empty");
        }
        return content.substring(0, end);
    }

    private static Map<String, String> readFile(Path file) {
        Object root;
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            root = new Yaml(new SafeConstructor(new LoaderOptions())).load(reader);
        } catch (IOException | RuntimeException e) {
            throw new ConfigException("config file " + file + " cannot be read as YAML: "
                    + e.getClass().getSimpleName());
        }
        if (root == null) {
            return Map.of();
        }
        if (!(root instanceof Map<?, ?> map)) {
            throw new ConfigException("config file " + file + " must be a mapping of setting names to values");
        }
        Map<String, String> out = new LinkedHashMap<>();
        map.forEach((k, v) -> {
            String name = String.valueOf(k)
                    .trim()
                    .toUpperCase(Locale.ROOT)
                    .replace('.', '_')
                    .replace('-', '_');
            if (!name.startsWith("TF_")) {
                name = "TF_" + name;
            }
            if (!DEFAULTS.containsKey(name) && !isSecretFileSetting(name)) {
                throw new ConfigException("config file " + file + " has an unknown setting '" + k + "'");
            }
            if (name.equals("TF_LOG_FORMAT")) {
                // Logback is configured before this file is read, from the environment only.
                throw new ConfigException(
                        "config file " + file + ": TF_LOG_FORMAT must be set in the environment, not the file");
            }
            String text = v == null
                    ? ""
                    : v instanceof List<?> list
                            ? list.stream().map(String::valueOf).collect(Collectors.joining(","))
                            : String.valueOf(v);
            out.put(name, text);
        });
        return out;
    }

    private AppConfig parse() {
        String logFormat = text("TF_LOG_FORMAT");
        if (!logFormat.equals("text") && !logFormat.equals("json")) {
            throw invalid("TF_LOG_FORMAT", "must be text or json");
        }
        Optional<Path> cert = optional("TF_TLS_CERT").map(Path::of);
        Optional<Path> key = optional("TF_TLS_KEY").map(Path::of);
        if (cert.isPresent() != key.isPresent()) {
            throw new ConfigException("TF_TLS_CERT and TF_TLS_KEY must be set together");
        }
        for (Optional<Path> p : List.of(cert, key)) {
            if (p.isPresent() && !Files.isReadable(p.get())) {
                throw new ConfigException(
                        (p == cert ? "TF_TLS_CERT" : "TF_TLS_KEY") + " names a file that cannot be read: " + p.get());
            }
        }
        URI publicUrl = url("TF_PUBLIC_URL");
        AppConfig.Links links = new AppConfig.Links(
                publicUrl, optional("TF_APP_URL").map(v -> appUrl("TF_APP_URL")).orElse(publicUrl));
        Path devDataDir = Path.of(nonEmpty("TF_DEV_DATA_DIR"));
        return new AppConfig(
                links,
                http(cert, key),
                db(),
                redis(),
                keys(),
                auth(links),
                billing(links),
                email(links, devDataDir),
                storage(publicUrl),
                new AppConfig.OpsSettings(optional("TF_METRICS_TOKEN"), devDataDir),
                new AppConfig.AuditSettings(
                        Path.of(nonEmpty("TF_AUDIT_ANCHOR_DIR")),
                        seconds("TF_AUDIT_CHECKPOINT_SECONDS", 1, 86400),
                        s3()));
    }

    private AppConfig.HttpSettings http(Optional<Path> cert, Optional<Path> key) {
        int httpPort = port("TF_HTTP_PORT");
        int httpsPort = port("TF_HTTPS_PORT");
        if (httpPort == httpsPort) {
            // Vert.x shares one listening socket between servers bound to the same port and hands
            // its connections to each in turn: half the HTTPS clients would meet the redirect
            // listener's plain HTTP.
            throw invalid("TF_HTTPS_PORT", "it is the same port as TF_HTTP_PORT; they must differ");
        }
        return new AppConfig.HttpSettings(
                httpPort,
                httpsPort,
                cert,
                key,
                intIn("TF_HTTP_INSTANCES", 0, 256),
                cidrs("TF_TRUSTED_PROXIES"),
                intIn("TF_API_RATE_PER_SECOND", 1, 1_000_000),
                intIn("TF_API_BURST", 1, 1_000_000),
                bindAddress("TF_BIND_ADDRESS"),
                corsOrigins("TF_CORS_ORIGINS"),
                seconds("TF_SHUTDOWN_DRAIN_SECONDS", 0, 300),
                new AppConfig.HttpLimits(
                        Duration.ofMillis(intIn("TF_HTTP_HEAD_TIMEOUT_MS", 100, 600_000)),
                        Duration.ofMillis(intIn("TF_HTTP_BODY_WINDOW_MS", 100, 600_000)),
                        MIN_BODY_BYTES_PER_SECOND,
                        intIn("TF_MAX_CONNECTIONS_PER_IP", 1, 1_000_000)));
    }

    private AppConfig.DbSettings db() {
        return new AppConfig.DbSettings(
                pgUrl("TF_DB_URL"),
                pgUrl("TF_DB_ADMIN_URL"),
                optional("TF_DB_WORKER_URL").map(v -> pgUrl("TF_DB_WORKER_URL")),
                intIn("TF_DB_POOL_SIZE", 1, 512),
                bool("TF_MIGRATE"));
    }

    private AppConfig.RedisSettings redis() {
        AppConfig.RedisSettings.RedisMode mode;
        try {
            mode = AppConfig.RedisSettings.RedisMode.valueOf(
                    text("TF_REDIS_MODE").toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw invalid("TF_REDIS_MODE", "must be standalone, cluster or sentinel");
        }
        List<String> urls = redisUrls("TF_REDIS_URL");
        if (mode == AppConfig.RedisSettings.RedisMode.STANDALONE && urls.size() > 1) {
            throw invalid(
                    "TF_REDIS_URL",
                    "must be one URL when TF_REDIS_MODE is standalone (a list is for cluster seed nodes or sentinels)");
        }
        String masterName = nonEmpty("TF_REDIS_MASTER_NAME");
        if (!masterName.matches("[A-Za-z0-9._-]{1,100}")) {
            throw invalid("TF_REDIS_MASTER_NAME", "must be the name the sentinels monitor, such as mymaster");
        }
        String prefix = text("TF_REDIS_KEY_PREFIX");
        if (mode == AppConfig.RedisSettings.RedisMode.CLUSTER && (prefix.contains("{") || prefix.contains("}"))) {
            throw invalid(
                    "TF_REDIS_KEY_PREFIX",
                    "must not contain { or } when TF_REDIS_MODE is cluster: a hash tag there would put every key in one slot");
        }
        return new AppConfig.RedisSettings(mode, urls, masterName, prefix);
    }

    private AppConfig.KeySettings keys() {
        return new AppConfig.KeySettings(
                optional("TF_JWT_PRIVATE_KEY")
                        .map(ConfigLoader::unescapeNewlines)
                        .map(pem -> requirePem("TF_JWT_PRIVATE_KEY", pem)),
                optional("TF_JWT_PREVIOUS_KEYS")
                        .map(ConfigLoader::unescapeNewlines)
                        .map(pem -> requireAnyPem("TF_JWT_PREVIOUS_KEYS", pem)),
                key32("TF_DATA_KEY"),
                keyAtLeast32("TF_URL_SIGNING_KEY"));
    }

    private AppConfig.AuthSettings auth(AppConfig.Links links) {
        return new AppConfig.AuthSettings(
                emails("TF_OWNER_EMAILS"),
                emails("TF_SUPPORT_EMAILS"),
                seconds("TF_ACCESS_TOKEN_TTL_SECONDS", 10, 86400),
                seconds("TF_REFRESH_TOKEN_TTL_SECONDS", 60, 400 * 86400),
                seconds("TF_REFRESH_REUSE_GRACE_SECONDS", 0, 300),
                intIn("TF_LOGIN_MAX_FAILURES", 1, 1000),
                seconds("TF_LOGIN_LOCKOUT_SECONDS", 1, 3600),
                intIn("TF_LOGIN_IP_LIMIT_PER_MINUTE", 1, 100_000),
                list("TF_GOOGLE_CLIENT_IDS"),
                jwksUrl("TF_GOOGLE_JWKS_URL"),
                googleIssuers(),
                list("TF_APPLE_CLIENT_IDS"),
                jwksUrl("TF_APPLE_JWKS_URL"),
                links);
    }

    private AppConfig.BillingSettings billing(AppConfig.Links links) {
        return new AppConfig.BillingSettings(
                optional("TF_STRIPE_SECRET_KEY"),
                optional("TF_STRIPE_API_BASE")
                        .map(u -> url("TF_STRIPE_API_BASE").toString()),
                webhookSecrets("TF_STRIPE_WEBHOOK_SECRET"),
                optional("TF_STRIPE_PRICE_ID"),
                intIn("TF_TRIAL_DAYS", 0, 730),
                links,
                Duration.ofMillis(intIn("TF_STRIPE_TIMEOUT_MS", 100, 120_000)));
    }

    private AppConfig.EmailSettings email(AppConfig.Links links, Path devDataDir) {
        return new AppConfig.EmailSettings(
                nonEmpty("TF_SMTP_HOST"),
                port("TF_SMTP_PORT"),
                optional("TF_SMTP_USER"),
                optional("TF_SMTP_PASSWORD"),
                startTls(),
                nonEmpty("TF_MAIL_FROM"),
                optional("TF_EMAIL_WEBHOOK_SECRET").map(s -> requireWhsec("TF_EMAIL_WEBHOOK_SECRET", s)),
                intIn("TF_EMAIL_MAX_ATTEMPTS", 1, 100),
                seconds("TF_EMAIL_RETRY_BASE_SECONDS", 1, 3600),
                fraction("TF_EMAIL_ALERT_FAILURE_RATE"),
                seconds("TF_EMAIL_ALERT_WINDOW_SECONDS", 60, 30 * 86400),
                devMail(links.publicUrl()),
                devDataDir.resolve("mail"),
                links);
    }

    private AppConfig.StorageSettings storage(URI publicUrl) {
        return new AppConfig.StorageSettings(
                Path.of(nonEmpty("TF_STORAGE_DIR")),
                s3(),
                longIn("TF_UPLOAD_MAX_BYTES", 1, 1L << 34),
                seconds("TF_SIGNED_URL_TTL_SECONDS", 1, 7 * 86400),
                publicUrl,
                keys32("TF_DATA_KEY_PREVIOUS"));
    }

    /** An IP literal (no name lookups at start-up): {@code 0.0.0.0} or {@code ::} for all interfaces. */
    private String bindAddress(String name) {
        String v = nonEmpty(name);
        if (!io.netty.util.NetUtil.isValidIpV4Address(v) && !io.netty.util.NetUtil.isValidIpV6Address(v)) {
            throw invalid(name, "must be an IP address, such as 0.0.0.0 (all interfaces) or 127.0.0.1");
        }
        return v;
    }

    /**
     * Exact web origins as a browser sends them in {@code Origin}: scheme, host and an optional
     * port, nothing else. A wildcard or a path is refused rather than guessed at.
     */
    private List<String> corsOrigins(String name) {
        List<String> origins = new java.util.ArrayList<>();
        for (String origin : list(name)) {
            URI uri;
            try {
                uri = new URI(origin);
            } catch (URISyntaxException e) {
                throw invalid(name, "each origin must be scheme://host[:port], such as https://app.example.com");
            }
            boolean exact = ("https".equals(uri.getScheme()) || "http".equals(uri.getScheme()))
                    && uri.getHost() != null
                    && uri.getRawUserInfo() == null
                    && (uri.getRawPath() == null || uri.getRawPath().isEmpty())
                    && uri.getRawQuery() == null
                    && uri.getRawFragment() == null;
            if (!exact) {
                throw invalid(
                        name,
                        "each origin must be scheme://host[:port] with no path or wildcard, such as https://app.example.com");
            }
            if (uri.getPort() == ("https".equals(uri.getScheme()) ? 443 : 80)) {
                // Browsers leave the scheme's own port out of Origin, so this entry would never match.
                throw invalid(
                        name, "leave out the default port: browsers send " + uri.getScheme() + "://" + uri.getHost());
            }
            origins.add(origin.toLowerCase(Locale.ROOT));
        }
        return List.copyOf(origins);
    }

    /**
     * {@code TF_DEV_MAIL}: {@code on} writes email to files under the dev data dir instead of
     * sending it, and logs its links (tokens included); {@code off} sends over SMTP; {@code auto}
     * (the default) is on only where everything else is a development default too: no mail server,
     * login or key configured. A public or app URL that is not this machine turns {@code auto} off
     * and refuses {@code on}: a production server must never write its users' links to its logs.
     */
    private boolean devMail(URI publicUrl) {
        // The links it logs lead to TF_APP_URL: that must be this machine too.
        URI appUrl = optional("TF_APP_URL").map(v -> appUrl("TF_APP_URL")).orElse(publicUrl);
        boolean thisMachine = isThisMachine(publicUrl.getHost()) && isThisMachine(appUrl.getHost());
        return switch (text("TF_DEV_MAIL").toLowerCase(Locale.ROOT)) {
            case "off", "false", "no", "0" -> false;
            case "on", "true", "yes", "1" -> {
                if (!thisMachine) {
                    throw invalid(
                            "TF_DEV_MAIL",
                            "is for development only and TF_PUBLIC_URL or TF_APP_URL is not localhost; use SMTP");
                }
                yield true;
            }
            case "auto" ->
                thisMachine
                        && java.util.stream.Stream.of(
                                        "TF_SMTP_HOST",
                                        "TF_SMTP_PORT",
                                        "TF_SMTP_USER",
                                        "TF_JWT_PRIVATE_KEY",
                                        "TF_DATA_KEY",
                                        "TF_URL_SIGNING_KEY")
                                .allMatch(name -> text(name).equals(DEFAULTS.get(name)));
            default -> throw invalid("TF_DEV_MAIL", "must be auto, on or off");
        };
    }

    /** localhost, a name under .localhost, or a loopback address: a server nobody else reaches. */
    static boolean isThisMachine(String host) {
        String h = host.toLowerCase(Locale.ROOT).replaceAll("^\\[|\\]$", "");
        return h.equals("localhost")
                || h.endsWith(".localhost")
                || h.equals("::1")
                || h.equals("0:0:0:0:0:0:0:1")
                || h.matches("127\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}");
    }

    /** Documents on S3 when a bucket is named; static credentials come in pairs or not at all. */
    private Optional<AppConfig.S3Settings> s3() {
        Optional<String> bucket = optional("TF_S3_BUCKET");
        if (bucket.isEmpty()) {
            return Optional.empty();
        }
        if (!bucket.get().matches("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")) {
            throw invalid("TF_S3_BUCKET", "must be an S3 bucket name");
        }
        String region = nonEmpty("TF_S3_REGION");
        if (!region.matches("[a-z0-9-]{2,32}")) {
            throw invalid("TF_S3_REGION", "must be a region name such as eu-west-2");
        }
        Optional<URI> endpoint = optional("TF_S3_ENDPOINT").map(v -> url("TF_S3_ENDPOINT"));
        Optional<String> keyId = optional("TF_S3_ACCESS_KEY_ID");
        Optional<String> secret = optional("TF_S3_SECRET_ACCESS_KEY");
        if (keyId.isPresent() != secret.isPresent()) {
            throw invalid(
                    keyId.isPresent() ? "TF_S3_SECRET_ACCESS_KEY" : "TF_S3_ACCESS_KEY_ID",
                    "TF_S3_ACCESS_KEY_ID and TF_S3_SECRET_ACCESS_KEY go together (or neither: the default AWS credentials chain)");
        }
        return Optional.of(new AppConfig.S3Settings(bucket.get(), region, endpoint, keyId, secret));
    }

    private ConfigException invalid(String name, String why) {
        String shown = SECRETS.contains(name) ? "" : " (got '" + values.get(name) + "')";
        return new ConfigException("setting " + name + " is invalid: " + why + shown);
    }

    private String text(String name) {
        return values.getOrDefault(name, "").trim();
    }

    private Optional<String> optional(String name) {
        String v = text(name);
        return v.isEmpty() ? Optional.empty() : Optional.of(v);
    }

    private String nonEmpty(String name) {
        return optional(name).orElseThrow(() -> invalid(name, "must not be empty"));
    }

    /** A comma-separated allow-list of addresses, lower-cased; an entry that is no address stops start-up. */
    private Set<String> emails(String name) {
        List<String> entries = list(name);
        for (String e : entries) {
            if (!e.matches("[^@\\s]+@[^@\\s]+\\.[^@\\s]+")) {
                throw invalid(name, "must be email addresses separated by commas");
            }
        }
        return entries.stream().map(e -> e.toLowerCase(Locale.ROOT)).collect(Collectors.toUnmodifiableSet());
    }

    private List<String> list(String name) {
        return Arrays.stream(text(name).split(","))
                .map(String::trim)
                .filter(s -> !s.isEmpty())
                .toList();
    }

    private long longIn(String name, long min, long max) {
        long v;
        try {
            v = Long.parseLong(text(name));
        } catch (NumberFormatException e) {
            throw invalid(name, "must be a whole number");
        }
        if (v < min || v > max) {
            throw invalid(name, "must be between " + min + " and " + max);
        }
        return v;
    }

    private int intIn(String name, int min, int max) {
        return (int) longIn(name, min, max);
    }

    private int port(String name) {
        return intIn(name, 0, 65535);
    }

    private Duration seconds(String name, long min, long max) {
        return Duration.ofSeconds(longIn(name, min, max));
    }

    private boolean bool(String name) {
        return switch (text(name).toLowerCase(Locale.ROOT)) {
            case "true", "yes", "1" -> true;
            case "false", "no", "0" -> false;
            default -> throw invalid(name, "must be true or false");
        };
    }

    private double fraction(String name) {
        double v;
        try {
            v = Double.parseDouble(text(name));
        } catch (NumberFormatException e) {
            throw invalid(name, "must be a number");
        }
        if (!(v > 0 && v <= 1)) {
            throw invalid(name, "must be greater than 0 and at most 1");
        }
        return v;
    }

    private URI url(String name) {
        try {
            URI uri = new URI(nonEmpty(name));
            if (!"https".equals(uri.getScheme()) && !"http".equals(uri.getScheme()) || uri.getHost() == null) {
                throw invalid(name, "must be an http(s) URL with a host");
            }
            return uri;
        } catch (URISyntaxException e) {
            throw invalid(name, "must be a URL");
        }
    }

    /** With Google sign-in on, an empty issuer list would refuse every token without saying why. */
    private List<String> googleIssuers() {
        List<String> issuers = list("TF_GOOGLE_ISSUERS");
        if (issuers.isEmpty() && !list("TF_GOOGLE_CLIENT_IDS").isEmpty()) {
            throw invalid("TF_GOOGLE_ISSUERS", "must name at least one issuer while TF_GOOGLE_CLIENT_IDS is set");
        }
        return issuers;
    }

    /**
     * Where a sign-in provider's signing keys are fetched: over HTTPS, since whoever could answer
     * in the provider's place could sign ID tokens for anyone. Plain HTTP only to this machine
     * (a local key server in tests).
     */
    private String jwksUrl(String name) {
        URI uri = url(name);
        String host = uri.getHost().replaceAll("^\\[|\\]$", "");
        boolean loopback = "localhost".equalsIgnoreCase(host) || host.startsWith("127.") || "::1".equals(host);
        if (!"https".equals(uri.getScheme()) && !loopback) {
            throw invalid(name, "must be an https URL (plain http only to a loopback address)");
        }
        return uri.toString();
    }

    /** A base that email links are appended to: a query or fragment would end up inside every link. */
    private URI appUrl(String name) {
        URI uri = url(name);
        if (uri.getRawQuery() != null || uri.getRawFragment() != null || uri.getUserInfo() != null) {
            throw invalid(name, "must be a base URL without user info, query or fragment");
        }
        return uri;
    }

    private String pgUrl(String name) {
        String v = nonEmpty(name);
        if (!v.startsWith("postgresql://") && !v.startsWith("postgres://")) {
            throw invalid(name, "must be a postgresql:// URL");
        }
        return v;
    }

    /** One or more redis:// or rediss:// URLs, comma-separated. */
    private List<String> redisUrls(String name) {
        nonEmpty(name);
        List<String> urls = list(name);
        if (urls.isEmpty()) {
            throw invalid(name, "must be a redis:// or rediss:// URL, or several separated by commas");
        }
        for (String v : urls) {
            if (!v.startsWith("redis://") && !v.startsWith("rediss://")) {
                throw invalid(name, "must be a redis:// or rediss:// URL, or several separated by commas");
            }
        }
        return urls;
    }

    private SmtpStartTls startTls() {
        try {
            return SmtpStartTls.valueOf(text("TF_SMTP_STARTTLS").toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw invalid("TF_SMTP_STARTTLS", "must be disabled, optional or required");
        }
    }

    private List<Cidr> cidrs(String name) {
        try {
            return list(name).stream().map(Cidr::parse).toList();
        } catch (IllegalArgumentException e) {
            throw invalid(name, "must be a comma-separated list of CIDRs such as 10.0.0.0/8");
        }
    }

    private Optional<byte[]> key32(String name) {
        return optional(name).map(v -> {
            byte[] key = base64(name, v);
            if (key.length != 32) {
                throw invalid(name, "must be base64 of exactly 32 bytes");
            }
            return key;
        });
    }

    /** Comma-separated base64 keys of 32 bytes each (master keys being rotated out). */
    private List<byte[]> keys32(String name) {
        List<byte[]> keys = new java.util.ArrayList<>();
        for (String part : text(name).split(",")) {
            if (!part.isBlank()) {
                byte[] key = base64(name, part.trim());
                if (key.length != 32) {
                    throw invalid(name, "must be comma-separated base64 keys of exactly 32 bytes each");
                }
                keys.add(key);
            }
        }
        return List.copyOf(keys);
    }

    private Optional<byte[]> keyAtLeast32(String name) {
        return optional(name).map(v -> {
            byte[] key = base64(name, v);
            if (key.length < 32) {
                throw invalid(name, "must be base64 of at least 32 bytes");
            }
            return key;
        });
    }

    private byte[] base64(String name, String v) {
        try {
            return Base64.getDecoder().decode(v);
        } catch (IllegalArgumentException e) {
            throw invalid(name, "must be base64");
        }
    }

    private List<String> webhookSecrets(String name) {
        List<String> secrets = list(name);
        secrets.forEach(s -> requireWhsec(name, s));
        return secrets;
    }

    private String requireWhsec(String name, String secret) {
        if (!secret.startsWith("whsec_") || secret.length() < 12) {
            throw invalid(name, "each secret must start with whsec_");
        }
        return secret;
    }

    private String requirePem(String name, String pem) {
        if (!pem.contains("-----BEGIN") || !pem.contains("PRIVATE KEY-----")) {
            throw invalid(name, "must be a PEM private key");
        }
        return pem;
    }

    private String requireAnyPem(String name, String pem) {
        if (!pem.contains("-----BEGIN") || !pem.contains("KEY-----")) {
            throw invalid(name, "must be one or more PEM keys");
        }
        return pem;
    }

    /** Environment variables often carry PEM with literal "\n" sequences. */
    private static String unescapeNewlines(String pem) {
        return pem.replace("\\n", "\n");
    }
}
