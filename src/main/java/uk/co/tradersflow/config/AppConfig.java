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
    List<byte[]> previousDataKeys) {

  /** True when the address (any case, surrounding space ignored) is on the owners' allow-list. */
  public boolean isOwnerEmail(String email) {
    return email != null && ownerEmails.contains(email.trim().toLowerCase(java.util.Locale.ROOT));
  }
}
