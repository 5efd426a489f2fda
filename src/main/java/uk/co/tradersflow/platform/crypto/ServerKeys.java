package uk.co.tradersflow.platform.crypto;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.util.Base64;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.co.tradersflow.config.AppConfig;
import uk.co.tradersflow.config.ConfigException;

/**
 * The server's key material, taken from the configuration or, on a developer machine where a
 * setting is empty, generated once and kept under {@code TF_DEV_DATA_DIR} so that tokens, signed
 * links and encrypted files survive a restart. Each generated item says so in one WARN line.
 */
public record ServerKeys(
    KeyPair jwtKeyPair,
    String jwtPrivatePem,
    String jwtPublicPem,
    byte[] dataKey,
    byte[] urlSigningKey,
    String tlsCertPem,
    String tlsKeyPem) {

  private static final Logger log = LoggerFactory.getLogger(ServerKeys.class);

  public static ServerKeys resolve(AppConfig config) {
    Path dir = config.devDataDir();
    String jwtPem = config.jwtPrivateKeyPem()
        .orElseGet(() -> devFile(dir, "jwt-private-key.pem", "TF_JWT_PRIVATE_KEY",
            () -> Pem.privateKeyPem(Pem.generateP256().getPrivate())));
    KeyPair pair;
    try {
      pair = Pem.readEcPrivateKey(jwtPem);
    } catch (IllegalArgumentException e) {
      throw new ConfigException("setting TF_JWT_PRIVATE_KEY is invalid: must be an EC P-256 private key in PEM");
    }
    byte[] dataKey = config.dataKey().orElseGet(() -> devKey(dir, "data-key", "TF_DATA_KEY"));
    byte[] urlKey = config.urlSigningKey().orElseGet(() -> devKey(dir, "url-signing-key", "TF_URL_SIGNING_KEY"));
    String certPem;
    String keyPem;
    if (config.tlsCert().isPresent()) {
      certPem = read(config.tlsCert().get(), "TF_TLS_CERT");
      keyPem = read(config.tlsKey().orElseThrow(), "TF_TLS_KEY");
    } else {
      Path certFile = dir.resolve("tls-cert.pem");
      Path keyFile = dir.resolve("tls-key.pem");
      if (!Files.isReadable(certFile) || !Files.isReadable(keyFile)) {
        SelfSignedCertificate.Pems pems = SelfSignedCertificate.forLocalhost();
        write(keyFile, pems.privateKey());
        write(certFile, pems.certificate());
      }
      log.warn("TF_TLS_CERT is not set: serving HTTPS with a self-signed development certificate for localhost ({})", certFile);
      certPem = read(certFile, "TF_TLS_CERT");
      keyPem = read(keyFile, "TF_TLS_KEY");
    }
    return new ServerKeys(pair, Pem.privateKeyPem(pair.getPrivate()), Pem.publicKeyPem(pair.getPublic()),
        dataKey, urlKey, certPem, keyPem);
  }

  private static byte[] devKey(Path dir, String name, String setting) {
    String b64 = devFile(dir, name, setting, () -> {
      byte[] key = new byte[32];
      new SecureRandom().nextBytes(key);
      return Base64.getEncoder().encodeToString(key);
    });
    return Base64.getDecoder().decode(b64.trim());
  }

  private static String devFile(Path dir, String name, String setting, java.util.function.Supplier<String> generate) {
    Path file = dir.resolve(name);
    if (!Files.isReadable(file)) {
      write(file, generate.get());
    }
    log.warn("{} is not set: using a development-only key kept in {}; set it in production", setting, file);
    return read(file, setting);
  }

  private static String read(Path file, String setting) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new ConfigException(setting + ": cannot read " + file);
    }
  }

  private static void write(Path file, String content) {
    try {
      Files.createDirectories(file.getParent());
      Path tmp = Files.createTempFile(file.getParent(), ".tmp-", "");
      try {
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
      } catch (UnsupportedOperationException ignored) {
        // not a POSIX file system; the directory's own permissions have to do
      }
      Files.writeString(tmp, content, StandardCharsets.UTF_8);
      Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new ConfigException("TF_DEV_DATA_DIR: cannot write development keys to " + file.getParent());
    }
  }

  /** Nothing here may ever reach a log line through a careless {@code toString}. */
  @Override
  public String toString() {
    return "ServerKeys[redacted]";
  }
}
