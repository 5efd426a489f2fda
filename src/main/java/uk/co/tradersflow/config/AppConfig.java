package uk.co.tradersflow.config;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Every setting of the server, parsed and validated once at start-up by {@link ConfigLoader}.
 * Nothing else reads the environment or the config file. Optional settings are empty when the
 * feature they enable is off; keys marked "(dev)" are filled by {@link DevSecrets} when unset.
 */
public record AppConfig(
    int httpPort,
    int httpsPort,
    Optional<Path> tlsCert,
    Optional<Path> tlsKey,
    URI publicUrl,
    String dbUrl,
    String dbAdminUrl,
    Optional<String> dbWorkerUrl,
    int dbPoolSize,
    boolean migrate,
    String redisUrl,
    String redisKeyPrefix,
    Set<String> ownerEmails,
    Optional<String> jwtPrivateKeyPem,
    Optional<byte[]> dataKey,
    Optional<byte[]> urlSigningKey,
    Optional<String> stripeSecretKey,
    Optional<String> stripeApiBase,
    List<String> stripeWebhookSecrets,
    Optional<String> stripePriceId,
    int trialDays,
    String smtpHost,
    int smtpPort,
    Optional<String> smtpUser,
    Optional<String> smtpPassword,
    SmtpStartTls smtpStartTls,
    String mailFrom,
    Optional<String> emailWebhookSecret,
    List<String> googleClientIds,
    String googleJwksUrl,
    List<String> googleIssuers,
    List<String> appleClientIds,
    String appleJwksUrl,
    Path storageDir,
    long uploadMaxBytes,
    Duration signedUrlTtl,
    Duration accessTokenTtl,
    Duration refreshTokenTtl,
    Duration refreshReuseGrace,
    int loginMaxFailures,
    Duration loginLockout,
    int loginIpLimitPerMinute,
    int apiRatePerSecond,
    int apiBurst,
    List<Cidr> trustedProxies,
    int emailMaxAttempts,
    Duration emailRetryBase,
    double emailAlertFailureRate,
    Duration emailAlertWindow,
    Optional<String> metricsToken,
    Path devDataDir,
    int httpInstances,
    List<byte[]> previousDataKeys,
    Optional<S3Settings> s3,
    HttpLimits httpLimits) {

  /**
   * What a client connection may cost before it is cut off: request heads must arrive within
   * {@code headTimeout}; a request body must bring at least {@code minBodyBytesPerSecond} on
   * average over every {@code bodyWindow}; one client address holds at most
   * {@code maxConnectionsPerIp} connections. The two durations are settings only so tests can
   * shorten them; the defaults are the contract's.
   */
  public record HttpLimits(Duration headTimeout, Duration bodyWindow, int minBodyBytesPerSecond, int maxConnectionsPerIp) {
    /** Bytes a body must bring in each window to be kept. */
    public long minBodyBytesPerWindow() {
      return minBodyBytesPerSecond * bodyWindow.toMillis() / 1000;
    }
  }

  /** Where documents go when not on local disk: an S3 bucket (or an S3-compatible endpoint). */
  public record S3Settings(String bucket, String region, Optional<URI> endpoint, Optional<String> accessKeyId,
                           Optional<String> secretAccessKey) {
    @Override
    public String toString() {
      return "S3Settings[bucket=" + bucket + ", region=" + region + ", endpoint=" + endpoint + "]";
    }
  }

  /**
   * Only what is safe to print: the generated one would list every key, password and token the
   * moment anyone logged a config, and database URLs may carry passwords.
   */
  @Override
  public String toString() {
    return "AppConfig[https=" + httpsPort + ", http=" + httpPort + ", publicUrl=" + publicUrl + ", stripe="
        + (stripeSecretKey.isPresent() ? "configured" : "off") + ", smtp=" + smtpHost + ", s3=" + s3 + "]";
  }

  /** True when the address (any case, surrounding space ignored) is on the owners' allow-list. */
  public boolean isOwnerEmail(String email) {
    return email != null && ownerEmails.contains(email.trim().toLowerCase(java.util.Locale.ROOT));
  }
}
