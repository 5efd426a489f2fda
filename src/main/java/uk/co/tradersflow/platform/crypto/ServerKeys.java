package uk.co.tradersflow.platform.crypto;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
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
        List<PublicKey> jwtPreviousKeys,
        byte[] dataKey,
        byte[] urlSigningKey,
        String tlsCertPem,
        String tlsKeyPem) {

    private static final Logger log = LoggerFactory.getLogger(ServerKeys.class);

    /** Where a development JWT key goes when rotated out ({@code rotate-jwt-key}); it still verifies. */
    public static final String DEV_JWT_KEY = "jwt-private-key.pem";

    public static final String DEV_JWT_PREVIOUS_KEYS = "jwt-previous-keys.pem";

    public static ServerKeys resolve(AppConfig config) {
        Path dir = config.ops().devDataDir();
        boolean development = isDevelopmentHost(config.links().publicUrl());
        String jwtPem = config.keys()
                .jwtPrivateKeyPem()
                .orElseGet(() -> devFile(
                        dir,
                        DEV_JWT_KEY,
                        "TF_JWT_PRIVATE_KEY",
                        development,
                        () -> Pem.privateKeyPem(Pem.generateP256().getPrivate())));
        KeyPair pair;
        try {
            pair = Pem.readEcPrivateKey(jwtPem);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("setting TF_JWT_PRIVATE_KEY is invalid: must be an EC P-256 private key in PEM");
        }
        Optional<String> previousPem = config.keys()
                .jwtPreviousKeysPem()
                .or(() -> config.keys().jwtPrivateKeyPem().isEmpty()
                                && Files.isReadable(dir.resolve(DEV_JWT_PREVIOUS_KEYS))
                        ? Optional.of(read(dir.resolve(DEV_JWT_PREVIOUS_KEYS), "TF_JWT_PREVIOUS_KEYS"))
                        : Optional.empty());
        List<PublicKey> previous;
        try {
            previous = previousPem.map(Pem::readEcPublicKeys).orElse(List.of());
        } catch (IllegalArgumentException e) {
            throw new ConfigException("setting TF_JWT_PREVIOUS_KEYS is invalid: must be EC P-256 keys in PEM");
        }
        byte[] dataKey = config.keys().dataKey().orElseGet(() -> devKey(dir, "data-key", "TF_DATA_KEY", development));
        byte[] urlKey = config.keys()
                .urlSigningKey()
                .orElseGet(() -> devKey(dir, "url-signing-key", "TF_URL_SIGNING_KEY", development));
        String certPem;
        String keyPem;
        if (config.http().tlsCert().isPresent()) {
            certPem = read(config.http().tlsCert().get(), "TF_TLS_CERT");
            keyPem = read(config.http().tlsKey().orElseThrow(), "TF_TLS_KEY");
        } else {
            refuseOutsideDevelopment("TF_TLS_CERT", development);
            Path certFile = dir.resolve("tls-cert.pem");
            Path keyFile = dir.resolve("tls-key.pem");
            if (!Files.isReadable(certFile) || !Files.isReadable(keyFile)) {
                SelfSignedCertificate.Pems pems = SelfSignedCertificate.forLocalhost();
                write(keyFile, pems.privateKey());
                write(certFile, pems.certificate());
            }
            log.warn(
                    "TF_TLS_CERT is not set: serving HTTPS with a self-signed development certificate for localhost ({})",
                    certFile);
            certPem = read(certFile, "TF_TLS_CERT");
            keyPem = read(keyFile, "TF_TLS_KEY");
        }
        return new ServerKeys(
                pair,
                Pem.privateKeyPem(pair.getPrivate()),
                Pem.publicKeyPem(pair.getPublic()),
                previous,
                dataKey,
                urlKey,
                certPem,
                keyPem);
    }

    /**
     * True when the public URL can only be a developer's or a test's: loopback, {@code localhost}
     * and the names RFC 6761 reserves ({@code *.localhost}, {@code *.test}). Anything else is taken
     * for production, where a key generated on the spot (and kept in a plain directory) must not
     * sign tokens or encrypt files.
     */
    public static boolean isDevelopmentHost(URI publicUrl) {
        String host = publicUrl.getHost().toLowerCase(Locale.ROOT);
        return host.equals("localhost")
                || host.endsWith(".localhost")
                || host.endsWith(".test")
                || host.equals("127.0.0.1")
                || host.startsWith("127.") && host.matches("[0-9.]+")
                || host.equals("[::1]")
                || host.equals("::1");
    }

    private static void refuseOutsideDevelopment(String setting, boolean development) {
        if (!development) {
            throw new ConfigException("setting " + setting + " must be set: TF_PUBLIC_URL is not localhost, "
                    + "so a generated development key will not be used");
        }
    }

    private static byte[] devKey(Path dir, String name, String setting, boolean development) {
        String b64 = devFile(dir, name, setting, development, () -> {
            byte[] key = new byte[32];
            new SecureRandom().nextBytes(key);
            return Base64.getEncoder().encodeToString(key);
        });
        return Base64.getDecoder().decode(b64.trim());
    }

    private static String devFile(
            Path dir, String name, String setting, boolean development, java.util.function.Supplier<String> generate) {
        refuseOutsideDevelopment(setting, development);
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

    /** Writes a key file readable by its owner only, replacing any file of that name in one step. */
    public static void write(Path file, String content) {
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
