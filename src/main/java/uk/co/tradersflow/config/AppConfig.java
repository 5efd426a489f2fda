package uk.co.tradersflow.config;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Every setting of the server, parsed and validated once at start-up by {@link ConfigLoader},
 * grouped by concern: each capability is handed its own record, never the whole config. Nothing
 * else reads the environment or the config file. Optional settings are empty when the feature
 * they enable is off; the keys in {@link KeySettings} are generated in development by
 * {@code platform.crypto.ServerKeys} when unset (and refused unset elsewhere).
 */
public record AppConfig(
        Links links,
        HttpSettings http,
        DbSettings db,
        RedisSettings redis,
        KeySettings keys,
        AuthSettings auth,
        BillingSettings billing,
        EmailSettings email,
        StorageSettings storage,
        OpsSettings ops,
        AuditSettings audit) {

    /**
     * Where the server is reached ({@code TF_PUBLIC_URL}) and where email links lead
     * ({@code TF_APP_URL}: the web app; the server itself unless set).
     */
    public record Links(URI publicUrl, URI appUrl) {
        /**
         * A link into the web app for an email: {@code appUrl} plus the path, e.g.
         * {@code /verify-email?token=…}.
         */
        public String appLink(String pathAndQuery) {
            return appUrl.toString().replaceAll("/+$", "") + pathAndQuery;
        }

        /**
         * True when email links lead back to this server (TF_APP_URL unset or equal to TF_PUBLIC_URL):
         * then the server answers {@code /verify-email} and the other link paths with pages of its own.
         */
        public boolean servesEmailPages() {
            return sameBase(appUrl, publicUrl);
        }

        private static boolean sameBase(URI a, URI b) {
            return a.getScheme().equalsIgnoreCase(b.getScheme())
                    && a.getHost().equalsIgnoreCase(b.getHost())
                    && effectivePort(a) == effectivePort(b)
                    && a.getRawPath()
                            .replaceAll("/+$", "")
                            .equals(b.getRawPath().replaceAll("/+$", ""));
        }

        private static int effectivePort(URI u) {
            return u.getPort() != -1 ? u.getPort() : "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
        }
    }

    /**
     * The listeners: their ports and certificate files, how many HTTPS verticles run (0: one per
     * core), which proxies' {@code X-Forwarded-For} is believed, the per-user API rate, the address
     * they bind ({@code 0.0.0.0}: all interfaces), the browser origins allowed to call the API
     * (empty: none), and how long a stopping server keeps serving while readiness answers 503, so a
     * load balancer moves traffic away before the listeners close; and what one client connection
     * may cost ({@link HttpLimits}).
     */
    public record HttpSettings(
            int httpPort,
            int httpsPort,
            Optional<Path> tlsCert,
            Optional<Path> tlsKey,
            int instances,
            List<Cidr> trustedProxies,
            int apiRatePerSecond,
            int apiBurst,
            String bindAddress,
            List<String> corsOrigins,
            Duration shutdownDrain,
            HttpLimits limits) {}

    /**
     * What a client connection may cost before it is cut off: request heads must arrive within
     * {@code headTimeout}; a request body must bring at least {@code minBodyBytesPerSecond} on
     * average over every {@code bodyWindow}; one client address holds at most
     * {@code maxConnectionsPerIp} connections. The two durations are settings only so tests can
     * shorten them; the defaults are the contract's.
     */
    public record HttpLimits(
            Duration headTimeout, Duration bodyWindow, int minBodyBytesPerSecond, int maxConnectionsPerIp) {
        /** Bytes a body must bring in each window to be kept. */
        public long minBodyBytesPerWindow() {
            return minBodyBytesPerSecond * bodyWindow.toMillis() / 1000;
        }
    }

    /** Where documents go when not on local disk: an S3 bucket (or an S3-compatible endpoint). */
    public record S3Settings(
            String bucket,
            String region,
            Optional<URI> endpoint,
            Optional<String> accessKeyId,
            Optional<String> secretAccessKey) {
        @Override
        public String toString() {
            return "S3Settings[bucket=" + bucket + ", region=" + region + ", endpoint=" + endpoint + "]";
        }
    }

    /** PostgreSQL: the application's login, the migrating admin's, the background jobs' (derived when empty). */
    public record DbSettings(String url, String adminUrl, Optional<String> workerUrl, int poolSize, boolean migrate) {
        /** The URLs may carry passwords. */
        @Override
        public String toString() {
            return "DbSettings[poolSize=" + poolSize + ", migrate=" + migrate + "]";
        }
    }

    /**
     * Redis, and the prefix of every key this server writes (several servers may share one Redis).
     * {@code urls} is one server's URL (standalone), a cluster's seed nodes (cluster, the rest is
     * discovered), or the sentinels watching {@code masterName} (sentinel).
     */
    public record RedisSettings(RedisMode mode, List<String> urls, String masterName, String keyPrefix) {
        /** How the server reaches Redis ({@code TF_REDIS_MODE}). */
        public enum RedisMode {
            STANDALONE,
            CLUSTER,
            SENTINEL
        }

        public RedisSettings {
            urls = List.copyOf(urls);
        }

        /** {@code TF_REDIS_URL} as given: the URLs, comma-separated. */
        public String url() {
            return String.join(",", urls);
        }

        /** The URLs may carry a password. */
        @Override
        public String toString() {
            return "RedisSettings[mode=" + mode + ", nodes=" + urls.size() + ", masterName=" + masterName
                    + ", keyPrefix=" + keyPrefix + "]";
        }
    }

    /**
     * The server's secret keys, each empty when unset: the token signing key and the ones being
     * retired, the key that wraps documents' data keys, the key that signs URLs and device tokens.
     */
    public record KeySettings(
            Optional<String> jwtPrivateKeyPem,
            Optional<String> jwtPreviousKeysPem,
            Optional<byte[]> dataKey,
            Optional<byte[]> urlSigningKey) {
        @Override
        public String toString() {
            return "KeySettings[jwt=" + (jwtPrivateKeyPem.isPresent() ? "set" : "unset") + "]";
        }
    }

    /**
     * Sign-in: the staff allow-lists, token lifetimes, lockout and per-IP limits, the OAuth
     * providers' client IDs and key sets, and where the links in auth's emails lead.
     */
    public record AuthSettings(
            Set<String> ownerEmails,
            Set<String> supportEmails,
            Duration accessTokenTtl,
            Duration refreshTokenTtl,
            Duration refreshReuseGrace,
            int loginMaxFailures,
            Duration loginLockout,
            int loginIpLimitPerMinute,
            List<String> googleClientIds,
            String googleJwksUrl,
            List<String> googleIssuers,
            List<String> appleClientIds,
            String appleJwksUrl,
            Links links) {
        /** True when the address (any case, surrounding space ignored) is on the owners' allow-list. */
        public boolean isOwnerEmail(String email) {
            return email != null && ownerEmails.contains(email.trim().toLowerCase(Locale.ROOT));
        }

        /** True when the address is on the support staff's allow-list ({@code TF_SUPPORT_EMAILS}). */
        public boolean isSupportEmail(String email) {
            return email != null && supportEmails.contains(email.trim().toLowerCase(Locale.ROOT));
        }

        /** An owner's or a support address: one that may open the admin area once its mailbox is proven. */
        public boolean isStaffEmail(String email) {
            return isOwnerEmail(email) || isSupportEmail(email);
        }
    }

    /**
     * Stripe: the API key and base (tests), the webhook secrets, the subscription's price and trial,
     * the links back, and how long one Stripe call may wait for its answer ({@code stripeTimeout}).
     */
    public record BillingSettings(
            Optional<String> stripeSecretKey,
            Optional<String> stripeApiBase,
            List<String> stripeWebhookSecrets,
            Optional<String> stripePriceId,
            int trialDays,
            Links links,
            Duration stripeTimeout) {
        @Override
        public String toString() {
            return "BillingSettings[stripe=" + (stripeSecretKey.isPresent() ? "configured" : "off") + ", trialDays="
                    + trialDays + "]";
        }
    }

    /**
     * Email: the SMTP server and login, the sender, the provider's webhook secret, retries and the
     * failure-rate alert; {@code devMail} writes mail under {@code devMailDir} instead of sending it.
     */
    public record EmailSettings(
            String smtpHost,
            int smtpPort,
            Optional<String> smtpUser,
            Optional<String> smtpPassword,
            SmtpStartTls smtpStartTls,
            String mailFrom,
            Optional<String> webhookSecret,
            int maxAttempts,
            Duration retryBase,
            double alertFailureRate,
            Duration alertWindow,
            boolean devMail,
            Path devMailDir,
            Links links) {
        @Override
        public String toString() {
            return "EmailSettings[smtp=" + smtpHost + ":" + smtpPort + ", devMail=" + devMail + "]";
        }
    }

    /**
     * Documents: on local disk under {@code dir} unless {@code s3} is set; the upload size limit,
     * signed URLs' lifetime and base, and the data keys being retired.
     */
    public record StorageSettings(
            Path dir,
            Optional<S3Settings> s3,
            long uploadMaxBytes,
            Duration signedUrlTtl,
            URI publicUrl,
            List<byte[]> previousDataKeys) {
        @Override
        public String toString() {
            return "StorageSettings[dir=" + dir + ", s3=" + s3 + "]";
        }
    }

    /** Operations: the token {@code /metrics} asks for (empty: loopback only) and the development data directory. */
    public record OpsSettings(Optional<String> metricsToken, Path devDataDir) {
        @Override
        public String toString() {
            return "OpsSettings[devDataDir=" + devDataDir + "]";
        }
    }

    /**
     * The audit chain's checkpoints: appended, signed, to files under {@code anchorDir} and, when
     * {@code s3} is set, as objects in that bucket; one is taken every {@code checkpointInterval}
     * (across all instances) and at each shutdown.
     */
    public record AuditSettings(Path anchorDir, Duration checkpointInterval, Optional<S3Settings> s3) {}

    /**
     * Only what is safe to print: the generated one would list every key, password and token the
     * moment anyone logged a config, and database URLs may carry passwords.
     */
    @Override
    public String toString() {
        return "AppConfig[https=" + http.httpsPort() + ", http=" + http.httpPort() + ", publicUrl=" + links.publicUrl()
                + ", appUrl="
                + links.appUrl() + ", stripe=" + (billing.stripeSecretKey().isPresent() ? "configured" : "off")
                + ", smtp=" + email.smtpHost()
                + ", s3=" + storage.s3() + "]";
    }
}
