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
    URI appUrl,
    String dbUrl,
    String dbAdminUrl,
    Optional<String> dbWorkerUrl,
    int dbPoolSize,
    boolean migrate,
    String redisUrl,
    String redisKeyPrefix,
    Set<String> ownerEmails,
    Set<String> supportEmails,
    Optional<String> jwtPrivateKeyPem,
    Optional<String> jwtPreviousKeysPem,
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
    HttpSettings http,
    boolean devMail) {

  /**
   * The listeners: the address they bind ({@code 0.0.0.0}: all interfaces), the browser origins
   * allowed to call the API (empty: none), and how long a stopping server keeps serving while
   * readiness answers 503, so a load balancer moves traffic away before the listeners close; and
   * what one client connection may cost ({@link HttpLimits}).
   */
  public record HttpSettings(String bindAddress, List<String> corsOrigins, Duration shutdownDrain, HttpLimits limits) {}

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
    return "AppConfig[https=" + httpsPort + ", http=" + httpPort + ", publicUrl=" + publicUrl + ", appUrl=" + appUrl + ", stripe="
        + (stripeSecretKey.isPresent() ? "configured" : "off") + ", smtp=" + smtpHost + ", s3=" + s3 + "]";
  }

  /**
   * A link into the web app for an email: {@code appUrl} (the server itself unless a separate web
   * app is configured) plus the path, e.g. {@code /verify-email?token=…}.
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
    return a.getScheme().equalsIgnoreCase(b.getScheme()) && a.getHost().equalsIgnoreCase(b.getHost())
        && effectivePort(a) == effectivePort(b)
        && a.getRawPath().replaceAll("/+$", "").equals(b.getRawPath().replaceAll("/+$", ""));
  }

  private static int effectivePort(URI u) {
    return u.getPort() != -1 ? u.getPort() : "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
  }

  /** True when the address (any case, surrounding space ignored) is on the owners' allow-list. */
  public boolean isOwnerEmail(String email) {
    return email != null && ownerEmails.contains(email.trim().toLowerCase(java.util.Locale.ROOT));
  }

  /** True when the address is on the support staff's allow-list ({@code TF_SUPPORT_EMAILS}). */
  public boolean isSupportEmail(String email) {
    return email != null && supportEmails.contains(email.trim().toLowerCase(java.util.Locale.ROOT));
  }

  /** An owner's or a support address: one that may open the admin area once its mailbox is proven. */
  public boolean isStaffEmail(String email) {
    return isOwnerEmail(email) || isSupportEmail(email);
  }
}
