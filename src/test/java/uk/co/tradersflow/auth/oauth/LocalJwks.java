package uk.co.tradersflow.auth.oauth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import uk.co.tradersflow.support.TestServer;

/**
 * A provider's key server of the tests' own: a Vert.x HTTP server on a free loopback port that
 * publishes the public halves of keys made here (RSA and EC, with Nimbus) as a JWK set, with the
 * {@code Cache-Control} the test chooses, counts its fetches, and can be taken down. Also signs ID
 * tokens with those keys (or any other).
 */
final class LocalJwks implements AutoCloseable {
    private final Vertx vertx = Vertx.vertx();
    private final int port = TestServer.freePort();
    private final AtomicInteger fetches = new AtomicInteger();
    private volatile List<JWK> published;
    private volatile String cacheControl = "public, max-age=3600";
    private volatile HttpServer server;

    private LocalJwks(List<JWK> keys) {
        this.published = List.copyOf(keys);
    }

    /** Made, with its port chosen, but not listening yet: a provider that cannot be reached until {@link #up}. */
    static LocalJwks unreachable(JWK... keys) {
        return new LocalJwks(List.of(keys));
    }

    static LocalJwks start(JWK... keys) {
        LocalJwks jwks = new LocalJwks(List.of(keys));
        jwks.up();
        return jwks;
    }

    /** Listening (again, after {@link #down}) on the same port. */
    void up() {
        server = TestServer.await(vertx.createHttpServer()
                .requestHandler(req -> {
                    fetches.incrementAndGet();
                    JWKSet set =
                            new JWKSet(published.stream().map(JWK::toPublicJWK).toList());
                    req.response()
                            .putHeader("Content-Type", "application/json")
                            .putHeader("Cache-Control", cacheControl)
                            .end(set.toString());
                })
                .listen(port, "127.0.0.1"));
    }

    /** Unreachable: nothing listens on the port any more. */
    void down() {
        TestServer.await(server.close());
        server = null;
    }

    String url() {
        return "http://127.0.0.1:" + port + "/certs";
    }

    int fetches() {
        return fetches.get();
    }

    /** Waits (at most 10 s) for the server's first fetch, made in the background at its start. */
    void awaitFirstFetch() throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (fetches.get() == 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
    }

    void publish(JWK... keys) {
        published = List.of(keys);
    }

    void cacheControl(String value) {
        cacheControl = value;
    }

    @Override
    public void close() {
        TestServer.await(vertx.close());
        server = null;
    }

    static RSAKey rsa(String kid) {
        try {
            return new RSAKeyGenerator(2048).keyID(kid).keyUse(KeyUse.SIGNATURE).generate();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    static ECKey ec(String kid) {
        try {
            return new ECKeyGenerator(Curve.P_256)
                    .keyID(kid)
                    .keyUse(KeyUse.SIGNATURE)
                    .generate();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A token signed by {@code key} (RS256 for RSA, ES256 for EC), naming the key's id. */
    static String sign(JWK key, JWTClaimsSet claims) {
        return key instanceof ECKey ec
                ? sign(JWSAlgorithm.ES256, key.getKeyID(), signer(ec), claims)
                : sign(JWSAlgorithm.RS256, key.getKeyID(), signer(key.toRSAKey()), claims);
    }

    static String sign(JWSAlgorithm alg, String kid, JWSSigner signer, JWTClaimsSet claims) {
        try {
            SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(alg).keyID(kid).build(), claims);
            jwt.sign(signer);
            return jwt.serialize();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    static JWSSigner signer(RSAKey key) {
        try {
            return new RSASSASigner(key);
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    static JWSSigner signer(ECKey key) {
        try {
            return new ECDSASigner(key);
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Claims as Google sends them for a verified address, issued now and valid for an hour. */
    static JWTClaimsSet.Builder google(String clientId, String subject, String email) {
        Instant now = Instant.now();
        return new JWTClaimsSet.Builder()
                .issuer("https://accounts.google.com")
                .audience(clientId)
                .subject(subject)
                .issueTime(Date.from(now))
                .expirationTime(Date.from(now.plusSeconds(3600)))
                .claim("email", email)
                .claim("email_verified", true);
    }

    /** Claims as Apple sends them: the flags as strings. */
    static JWTClaimsSet.Builder apple(String clientId, String subject, String email) {
        Instant now = Instant.now();
        return new JWTClaimsSet.Builder()
                .issuer("https://appleid.apple.com")
                .audience(clientId)
                .subject(subject)
                .issueTime(Date.from(now))
                .expirationTime(Date.from(now.plusSeconds(600)))
                .claim("email", email)
                .claim("email_verified", "true")
                .claim("is_private_email", "false");
    }
}
