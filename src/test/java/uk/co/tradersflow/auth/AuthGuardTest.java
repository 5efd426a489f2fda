package uk.co.tradersflow.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.Signature;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.platform.bus.SessionRevoked;
import uk.co.tradersflow.platform.crypto.Es256Signer;
import uk.co.tradersflow.platform.crypto.Pem;
import uk.co.tradersflow.platform.crypto.ServerKeys;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/** Every protected route is guarded on the server: forged, stale, revoked or suspended → refused. */
class AuthGuardTest {
    static final String ROUTE = "/api/v1/customers";
    static TestServer server;
    static TestUsers users;
    static ServerKeys keys;

    @RegisterExtension
    static final ServerExtension lifecycle = ServerExtension.withDefaults().then(s -> {
        server = s;
        users = new TestUsers(server);
        keys = ServerKeys.resolve(server.config);
    });

    private static String b64(byte[] bytes) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    private static String b64(JsonObject json) {
        return b64(json.encode().getBytes(StandardCharsets.UTF_8));
    }

    private static JsonObject claims(TestUser u, long expiresIn) {
        long now = Instant.now().getEpochSecond();
        return new JsonObject()
                .put("sub", u.userId().toString())
                .put("acc", u.accountId().toString())
                .put("sid", u.sessionId().toString())
                .put("iat", now)
                .put("exp", now + expiresIn)
                .put("iss", "tradersflow")
                .put("aud", "tradersflow-api");
    }

    private static String es256(JsonObject payload, PrivateKey key) throws Exception {
        String input = b64(new JsonObject()
                        .put("alg", "ES256")
                        .put("typ", "JWT")
                        .put("kid", JwtKeySet.kid(keys.jwtKeyPair().getPublic())))
                + "." + b64(payload);
        Signature sig = Signature.getInstance("SHA256withECDSAinP1363Format");
        sig.initSign(key);
        sig.update(input.getBytes(StandardCharsets.US_ASCII));
        byte[] signature = sig.sign();
        // The server accepts only the low-S form of a signature (see AccessTokenMalleabilityTest).
        java.math.BigInteger n =
                ((java.security.interfaces.ECPrivateKey) key).getParams().getOrder();
        java.math.BigInteger s = new java.math.BigInteger(1, java.util.Arrays.copyOfRange(signature, 32, 64));
        if (s.compareTo(n.shiftRight(1)) > 0) {
            System.arraycopy(Es256Signer.fixed32(n.subtract(s)), 0, signature, 32, 32);
        }
        return input + "." + b64(signature);
    }

    private static HttpResponse<Buffer> get(String token) {
        return server.send(HttpMethod.GET, ROUTE, token);
    }

    private static void assertUnauthorized(HttpResponse<Buffer> r, String what) {
        assertThat(r.statusCode()).as(what).isEqualTo(401);
        assertThat(r.getHeader("WWW-Authenticate")).as(what).startsWith("Bearer");
        assertThat(r.getHeader("Content-Type")).as(what).startsWith("application/problem+json");
    }

    @Test
    void aMissingOrGarbageTokenIs401WithWwwAuthenticate() {
        assertUnauthorized(
                TestServer.await(server.request(HttpMethod.GET, ROUTE).send()), "no header");
        assertUnauthorized(
                TestServer.await(server.request(HttpMethod.GET, ROUTE)
                        .putHeader("Authorization", "Basic dTpw")
                        .send()),
                "basic");
        assertUnauthorized(
                TestServer.await(server.request(HttpMethod.GET, ROUTE)
                        .putHeader("Authorization", "Bearer")
                        .send()),
                "empty bearer");
        assertUnauthorized(get("garbage"), "garbage");
        assertUnauthorized(get("a.b.c"), "three garbage parts");
        assertUnauthorized(get("x".repeat(5000)), "huge");
    }

    @Test
    void aTokenSignedHereWithTheServersKeyIsAcceptedSoTheForgeriesBelowFailForTheirFlaw() throws Exception {
        TestUser u = users.create();
        assertThat(get(es256(claims(u, 600), keys.jwtKeyPair().getPrivate())).statusCode())
                .isEqualTo(200);
        assertThat(get(u.token()).statusCode()).isEqualTo(200);
    }

    @Test
    void algNoneIsRefused() {
        TestUser u = users.create();
        String unsigned = b64(new JsonObject().put("alg", "none").put("typ", "JWT")) + "." + b64(claims(u, 600)) + ".";
        assertUnauthorized(get(unsigned), "alg none");
        String noneWithSig = unsigned + "c2ln";
        assertUnauthorized(get(noneWithSig), "alg none with junk signature");
    }

    @Test
    void hs256SignedWithThePublicKeyIsRefused() throws Exception {
        TestUser u = users.create();
        String input =
                b64(new JsonObject().put("alg", "HS256").put("typ", "JWT").put("kid", "tf-1")) + "."
                        + b64(claims(u, 600));
        for (byte[] secret : new byte[][] {
            keys.jwtPublicPem().getBytes(StandardCharsets.UTF_8),
            keys.jwtKeyPair().getPublic().getEncoded()
        }) {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            assertUnauthorized(
                    get(input + "." + b64(mac.doFinal(input.getBytes(StandardCharsets.US_ASCII)))),
                    "HS256 with public key");
        }
    }

    @Test
    void aTokenSignedWithAnotherEcKeyIsRefused() throws Exception {
        TestUser u = users.create();
        KeyPair other = Pem.generateP256();
        assertUnauthorized(get(es256(claims(u, 600), other.getPrivate())), "foreign key");
    }

    @Test
    void anAlteredPayloadIsRefused() {
        TestUser u = users.create();
        TestUser victim = users.create();
        String[] parts = u.token().split("\\.");
        JsonObject payload =
                new JsonObject(new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8));
        payload.put("acc", victim.accountId().toString());
        assertUnauthorized(get(parts[0] + "." + b64(payload) + "." + parts[2]), "account swapped");
        payload.put("exp", payload.getLong("exp") + 86400);
        assertUnauthorized(get(parts[0] + "." + b64(payload) + "." + parts[2]), "expiry extended");
    }

    @Test
    void anExpiredTokenIsRefused() {
        TestUser u = users.create();
        AccessTokens past =
                new AccessTokens(keys, Duration.ofSeconds(60), Clock.offset(Clock.systemUTC(), Duration.ofHours(-1)));
        String expired = past.mint(u.userId(), u.accountId(), u.sessionId(), Optional.empty());
        assertUnauthorized(get(expired), "expired an hour ago");
    }

    @Test
    void wrongIssuerOrAudienceIsRefused() throws Exception {
        TestUser u = users.create();
        assertUnauthorized(
                get(es256(
                        claims(u, 600).put("iss", "someone-else"),
                        keys.jwtKeyPair().getPrivate())),
                "issuer");
        assertUnauthorized(
                get(es256(
                        claims(u, 600).put("aud", "another-api"),
                        keys.jwtKeyPair().getPrivate())),
                "audience");
    }

    private static long millisUntil(TestServer on, String token, int status) throws InterruptedException {
        long start = System.nanoTime();
        while (on.send(HttpMethod.GET, ROUTE, token).statusCode() != status) {
            assertThat(Duration.ofNanos(System.nanoTime() - start))
                    .as("reached %d in time", status)
                    .isLessThan(Duration.ofSeconds(3));
            Thread.sleep(20);
        }
        return Duration.ofNanos(System.nanoTime() - start).toMillis();
    }

    @Test
    void aRevokedSessionIsRefusedWithinOneSecondEvenWithoutASignal() throws Exception {
        TestUser u = users.create();
        assertThat(get(u.token()).statusCode()).isEqualTo(200);
        users.revokeSession(u.sessionId());
        // The cache window is 1 s; the margin is for request latency on a loaded two-core machine.
        assertThat(millisUntil(server, u.token(), 401)).isLessThan(1000 + 500);
        assertUnauthorized(get(u.token()), "revoked");
    }

    @Test
    void aRevokedAndSignalledSessionIsRefusedAtOnce() throws Exception {
        TestUser u = users.create();
        assertThat(get(u.token()).statusCode()).isEqualTo(200);
        users.revokeSession(u.sessionId());
        TestServer.await(server.main.revocations().publish(SessionRevoked.session(u.sessionId())));
        assertUnauthorized(get(u.token()), "revoked and signalled");
    }

    @Test
    void aSuspendedAccountIsRefused403OnATokenAlreadyIssued() throws Exception {
        TestUser u = users.create();
        TestUser other = users.newSession(u.accountId(), u.userId(), u.email());
        assertThat(get(u.token()).statusCode()).isEqualTo(200);
        users.setAccountStatus(u.accountId(), "suspended");
        TestServer.await(server.main.revocations().publish(SessionRevoked.user(u.userId())));
        millisUntil(server, u.token(), 403);
        HttpResponse<Buffer> r = get(u.token());
        assertThat(r.statusCode()).isEqualTo(403);
        assertThat(r.bodyAsJsonObject().getString("code")).isEqualTo("account_suspended");
        assertThat(get(other.token()).bodyAsJsonObject().getString("code")).isEqualTo("account_suspended");
        users.setAccountStatus(u.accountId(), "active");
        millisUntil(server, u.token(), 200);
    }

    @Test
    void aClosedAccountsTokensStopWorking() throws Exception {
        TestUser u = users.create();
        assertThat(get(u.token()).statusCode()).isEqualTo(200);
        users.setAccountStatus(u.accountId(), "closed");
        millisUntil(server, u.token(), 401);
    }

    @Test
    void revocationReachesAnotherInstanceWithinOneSecond() throws Exception {
        // Same database, Redis and keys: two instances of one deployment.
        try (TestServer b = TestServer.start(
                Map.of("TF_DEV_DATA_DIR", server.config.ops().devDataDir().toString()))) {
            TestUser u = users.create();
            assertThat(b.send(HttpMethod.GET, ROUTE, u.token()).statusCode()).isEqualTo(200);
            assertThat(get(u.token()).statusCode()).isEqualTo(200);
            users.revokeSession(u.sessionId());
            TestServer.await(server.main.revocations().publish(SessionRevoked.session(u.sessionId())));
            long ms = millisUntil(b, u.token(), 401);
            // b cached the session as live just before: its cache alone would answer so for about a
            // second more. Well under that, the signal (Redis pub/sub) carried the revocation.
            assertThat(ms).as("revocation signalled to the other instance").isLessThan(500);
        }
    }
}
