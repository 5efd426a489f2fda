package uk.co.tradersflow.auth.oauth;

import static io.vertx.core.http.HttpMethod.DELETE;
import static io.vertx.core.http.HttpMethod.GET;
import static io.vertx.core.http.HttpMethod.POST;
import static org.assertj.core.api.Assertions.assertThat;

import com.icegreen.greenmail.util.GreenMail;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.PlainJWT;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import jakarta.mail.internet.MimeMessage;
import java.time.Instant;
import java.util.Date;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.platform.metrics.SecurityEvents;
import uk.co.tradersflow.support.LocalSmtp;
import uk.co.tradersflow.support.LogCapture;
import uk.co.tradersflow.support.MailedLinks;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.Sql;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;

/**
 * Sign in with Google and Apple through the public API, against key servers of the test's own:
 * what a verified ID token creates, signs into and links, and every token that must be refused.
 */
class OAuthSignInTest {
    static final String GOOGLE_CLIENT = "tf-web.apps.googleusercontent.test";
    static final String APPLE_CLIENT = "uk.co.tradersflow.app";
    static final RSAKey GOOGLE_KEY = LocalJwks.rsa("g1");
    static final ECKey GOOGLE_EC_KEY = LocalJwks.ec("g-ec");
    static final RSAKey APPLE_KEY = LocalJwks.rsa("a1");

    static TestServer server;
    static GreenMail smtp;
    static LocalJwks google;
    static LocalJwks apple;

    @RegisterExtension
    static final ServerExtension lifecycle = ServerExtension.with(() -> {
                smtp = LocalSmtp.start();
                google = LocalJwks.start(GOOGLE_KEY, GOOGLE_EC_KEY);
                apple = LocalJwks.start(APPLE_KEY);
                return LocalSmtp.settings(
                        smtp,
                        Map.of(
                                "TF_GOOGLE_CLIENT_IDS",
                                "other-client.test," + GOOGLE_CLIENT,
                                "TF_GOOGLE_JWKS_URL",
                                google.url(),
                                "TF_APPLE_CLIENT_IDS",
                                APPLE_CLIENT,
                                "TF_APPLE_JWKS_URL",
                                apple.url(),
                                "TF_MAIL_FROM",
                                "TradersFlow <no-reply@tradersflow.test>"));
            })
            .closing(() -> smtp == null ? null : smtp::stop)
            .closing(() -> google)
            .closing(() -> apple)
            .then(s -> server = s);

    static HttpResponse<Buffer> post(String path, JsonObject body) {
        return TestServer.await(server.request(POST, path).sendJsonObject(body));
    }

    static HttpResponse<Buffer> google(String idToken) {
        return post("/api/v1/auth/oauth/google", new JsonObject().put("idToken", idToken));
    }

    static HttpResponse<Buffer> apple(JsonObject body) {
        return post("/api/v1/auth/oauth/apple", body);
    }

    static String subject() {
        return Long.toString(
                100_000_000_000_000_000L + ThreadLocalRandom.current().nextLong(1L << 58));
    }

    static String email() {
        return "trader-" + UUID.randomUUID() + "@example.test";
    }

    static String googleToken(String subject, String email) {
        return LocalJwks.sign(
                GOOGLE_KEY, LocalJwks.google(GOOGLE_CLIENT, subject, email).build());
    }

    static JsonObject me(String accessToken) {
        HttpResponse<Buffer> me = server.send(GET, "/api/v1/me", accessToken);
        assertThat(me.statusCode()).as(me.bodyAsString()).isEqualTo(200);
        return me.bodyAsJsonObject();
    }

    static JsonObject signedIn(HttpResponse<Buffer> answer) {
        assertThat(answer.statusCode()).as(answer.bodyAsString()).isEqualTo(200);
        JsonObject body = answer.bodyAsJsonObject();
        assertThat(body.getString("tokenType")).isEqualTo("Bearer");
        assertThat(body.getString("refreshToken")).isNotBlank();
        assertThat(body.getString("deviceToken")).isNotBlank();
        return body;
    }

    static long queued(String recipient, String template) {
        return Sql.admin()
                .count("SELECT count(*) FROM email_outbox WHERE recipient = ? AND template = ?", recipient, template);
    }

    static long audited(UUID userId, String action) {
        return Sql.admin().count("SELECT count(*) FROM audit_log WHERE actor_id = ? AND action = ?", userId, action);
    }

    // ------------------------------------------------------------------------------ accepted

    @Test
    void aNewSubjectWithANewEmailCreatesAVerifiedAccountWithoutAPassword() {
        String email = email();
        String subject = subject();
        JsonObject tokens = signedIn(google(googleToken(subject, email.toUpperCase())));
        JsonObject me = me(tokens.getString("accessToken"));
        assertThat(me.getJsonObject("user").getString("email")).isEqualTo(email);
        assertThat(me.getJsonObject("user").getBoolean("emailVerified")).isTrue();
        assertThat(me.getJsonObject("account").getString("businessName"))
                .as("no business name asked for: the address's local part")
                .isEqualTo(email.substring(0, email.indexOf('@')));
        UUID userId = UUID.fromString(me.getJsonObject("user").getString("id"));
        assertThat(Sql.admin().find("SELECT password_hash FROM users WHERE id = ?", userId))
                .isEmpty();
        assertThat(Sql.admin()
                        .string(
                                "SELECT user_id::text FROM user_identities WHERE provider = 'google' AND subject = ?",
                                subject))
                .isEqualTo(userId.toString());
        assertThat(audited(userId, "account.signed_up")).isEqualTo(1);
        assertThat(Sql.admin()
                        .string(
                                "SELECT details->>'method' FROM audit_log WHERE actor_id = ? AND action = 'login.succeeded'",
                                userId))
                .isEqualTo("google");
        assertThat(queued(email, "signin_alert"))
                .as("a sign-in from a new device")
                .isEqualTo(1);
    }

    @Test
    void theSameSubjectSignsIntoTheSameUserAfterItsEmailChangesAtTheProvider() {
        String subject = subject();
        String first = email();
        JsonObject created = signedIn(google(googleToken(subject, first)));
        String userId =
                me(created.getString("accessToken")).getJsonObject("user").getString("id");

        String changed = email();
        JsonObject again = signedIn(google(googleToken(subject, changed)));
        JsonObject me = me(again.getString("accessToken"));
        assertThat(me.getJsonObject("user").getString("id")).isEqualTo(userId);
        assertThat(me.getJsonObject("user").getString("email"))
                .as("the account keeps its own address")
                .isEqualTo(first);
        assertThat(Sql.admin().count("SELECT count(*) FROM users WHERE email = ?", changed))
                .as("no second account for the new address")
                .isZero();
        JsonArray identities = identities(again.getString("accessToken"));
        assertThat(identities).hasSize(1);
        assertThat(identities.getJsonObject(0).getString("email"))
                .as("what the provider now says")
                .isEqualTo(changed);
    }

    @Test
    void aUserCreatedByGoogleHasNoPasswordToSignInWithUntilTheyResetOne() throws Exception {
        String email = email();
        signedIn(google(googleToken(subject(), email)));
        HttpResponse<Buffer> login =
                post("/api/v1/auth/login", new JsonObject().put("email", email).put("password", "anything at all 1"));
        assertThat(login.statusCode()).isEqualTo(401);
        assertThat(login.bodyAsJsonObject().getString("code")).isEqualTo("invalid_credentials");

        assertThat(post("/api/v1/auth/password-reset/request", new JsonObject().put("email", email))
                        .statusCode())
                .isEqualTo(202);
        // From the mail itself: the outbox forgets a message's link once it is sent, and the local
        // SMTP server here takes it within milliseconds.
        String token = MailedLinks.token(resetLinkMailedTo(email));
        String password = "a brand new password for me";
        assertThat(post(
                                "/api/v1/auth/password-reset/confirm",
                                new JsonObject().put("token", token).put("newPassword", password))
                        .statusCode())
                .isEqualTo(204);
        signedIn(post("/api/v1/auth/login", new JsonObject().put("email", email).put("password", password)));
    }

    @Test
    void aNewSubjectWithTheAddressOfAVerifiedUserIsLinkedToThemAndTheyAreMailed() throws Exception {
        String email = "linked-" + UUID.randomUUID() + "@linking.test";
        TestUsers.TestUser existing = new TestUsers(server).create(email, true);
        String subject = subject();
        JsonObject tokens = signedIn(google(googleToken(subject, email)));
        assertThat(me(tokens.getString("accessToken")).getJsonObject("user").getString("id"))
                .isEqualTo(existing.userId().toString());
        assertThat(Sql.admin()
                        .count(
                                "SELECT count(*) FROM user_identities WHERE user_id = ? AND provider = 'google' AND subject = ?",
                                existing.userId(),
                                subject))
                .isEqualTo(1);
        assertThat(audited(existing.userId(), "identity.linked")).isEqualTo(1);
        MimeMessage[] mail = LocalSmtp.receivedFor(smtp, "linking.test", 2, 15);
        assertThat(java.util.Arrays.stream(mail).map(m -> {
                    try {
                        return m.getSubject();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }))
                .contains("Google sign-in was added to your TradersFlow account");
    }

    @Test
    void aNewSubjectIsNotLinkedToAUserWhoHasNotVerifiedTheAddress() {
        String email = email();
        TestUsers.TestUser existing = new TestUsers(server).create(email, false);
        HttpResponse<Buffer> refused = google(googleToken(subject(), email));
        assertThat(refused.statusCode()).isEqualTo(409);
        assertThat(refused.bodyAsJsonObject().getString("code")).isEqualTo("account_exists_unverified");
        assertThat(Sql.admin().count("SELECT count(*) FROM user_identities WHERE user_id = ?", existing.userId()))
                .isZero();
        assertThat(Sql.admin()
                        .count(
                                "SELECT count(*) FROM sessions WHERE user_id = ? AND id <> ?",
                                existing.userId(),
                                existing.sessionId()))
                .as("no session opened as the existing user")
                .isZero();
    }

    @Test
    void anAddressTheProviderHasNotVerifiedLinksToNobodyAndCreatesNothing() {
        String email = email();
        TestUsers.TestUser existing = new TestUsers(server).create(email, true);
        String unverified = LocalJwks.sign(
                GOOGLE_KEY,
                LocalJwks.google(GOOGLE_CLIENT, subject(), email)
                        .claim("email_verified", false)
                        .build());
        HttpResponse<Buffer> refused = google(unverified);
        assertThat(refused.statusCode()).isEqualTo(409);
        assertThat(refused.bodyAsJsonObject().getString("code")).isEqualTo("account_exists_unverified");
        assertThat(Sql.admin().count("SELECT count(*) FROM user_identities WHERE user_id = ?", existing.userId()))
                .isZero();

        String nobody = email();
        HttpResponse<Buffer> notCreated = google(LocalJwks.sign(
                GOOGLE_KEY,
                LocalJwks.google(GOOGLE_CLIENT, subject(), nobody)
                        .claim("email_verified", false)
                        .build()));
        assertThat(notCreated.statusCode()).isEqualTo(403);
        assertThat(notCreated.bodyAsJsonObject().getString("code")).isEqualTo("email_not_verified");
        assertThat(Sql.admin().count("SELECT count(*) FROM users WHERE email = ?", nobody))
                .isZero();
    }

    @Test
    void appleSignInTakesTheBusinessNameAndKeepsAPrivateRelayAddressThatMailReaches() throws Exception {
        String relay = "x" + UUID.randomUUID().toString().replace("-", "") + "@privaterelay.appleid.com";
        String token = LocalJwks.sign(
                APPLE_KEY,
                LocalJwks.apple(
                                APPLE_CLIENT,
                                "001234." + UUID.randomUUID().toString().replace("-", "") + ".0042",
                                relay)
                        .claim("is_private_email", "true")
                        .build());
        JsonObject tokens =
                signedIn(apple(new JsonObject().put("idToken", token).put("businessName", "Sparks Ltd")));
        JsonObject me = me(tokens.getString("accessToken"));
        assertThat(me.getJsonObject("account").getString("businessName")).isEqualTo("Sparks Ltd");
        assertThat(me.getJsonObject("user").getString("email")).isEqualTo(relay);
        assertThat(me.getJsonObject("user").getBoolean("emailVerified")).isTrue();
        JsonObject identity = identities(tokens.getString("accessToken")).getJsonObject(0);
        assertThat(identity.getString("provider")).isEqualTo("apple");
        assertThat(identity.getBoolean("privateEmail")).isTrue();
        MimeMessage[] received = LocalSmtp.receivedFor(smtp, "privaterelay.appleid.com", 1, 15);
        assertThat(received)
                .as("the sign-in alert went out to the relay address")
                .isNotEmpty();
        assertThat(received[0].getAllRecipients()[0].toString()).isEqualTo(relay);
    }

    @Test
    void aTokenSignedWithThePublishedEcKeyIsAcceptedAsEs256() {
        signedIn(google(LocalJwks.sign(
                GOOGLE_EC_KEY,
                LocalJwks.google(GOOGLE_CLIENT, subject(), email()).build())));
    }

    @Test
    void theNonceMayBeTheTokensOwnOrItsSha256InHex() {
        String nonce = "n-" + UUID.randomUUID();
        String asIs = LocalJwks.sign(
                GOOGLE_KEY,
                LocalJwks.google(GOOGLE_CLIENT, subject(), email())
                        .claim("nonce", nonce)
                        .build());
        signedIn(post(
                "/api/v1/auth/oauth/google",
                new JsonObject().put("idToken", asIs).put("nonce", nonce)));
        String hashed = LocalJwks.sign(
                APPLE_KEY,
                LocalJwks.apple(APPLE_CLIENT, subject(), email())
                        .claim("nonce", IdTokenVerifier.sha256Hex(nonce))
                        .build());
        signedIn(apple(new JsonObject().put("idToken", hashed).put("nonce", nonce)));
    }

    @Test
    void anExpiryWithinTheMinutesLeewayIsAccepted() {
        Instant now = Instant.now();
        signedIn(google(LocalJwks.sign(
                GOOGLE_KEY,
                LocalJwks.google(GOOGLE_CLIENT, subject(), email())
                        .issueTime(Date.from(now.minusSeconds(3600)))
                        .expirationTime(Date.from(now.minusSeconds(30)))
                        .build())));
    }

    // ------------------------------------------------------------------------------ refused

    /** 401 invalid_id_token, a login_failed event, the reason in the log and never the token. */
    static void assertRefused(String path, JsonObject body, String reason) {
        long failedBefore = SecurityEvents.count(SecurityEvents.Event.LOGIN_FAILED);
        try (LogCapture logs = new LogCapture()) {
            HttpResponse<Buffer> refused = post(path, body);
            assertThat(refused.statusCode()).as(refused.bodyAsString()).isEqualTo(401);
            assertThat(refused.bodyAsJsonObject().getString("code")).isEqualTo("invalid_id_token");
            assertThat(refused.bodyAsString()).doesNotContain(reason);
            assertThat(SecurityEvents.count(SecurityEvents.Event.LOGIN_FAILED)).isGreaterThan(failedBefore);
            assertThat(logs.text()).contains("ID token refused: ").contains(reason);
            String token = body.getString("idToken");
            assertThat(logs.text()).doesNotContain(token.length() > 40 ? token.substring(token.length() - 40) : token);
        }
    }

    static void assertGoogleRefused(String token, String reason) {
        assertRefused("/api/v1/auth/oauth/google", new JsonObject().put("idToken", token), reason);
    }

    @Test
    void anUnsignedTokenIsRefused() {
        String none =
                new PlainJWT(LocalJwks.google(GOOGLE_CLIENT, subject(), email()).build()).serialize();
        assertGoogleRefused(none, "not a signed JWT");
        assertGoogleRefused("not.a.jwt", "not a signed JWT");
    }

    @Test
    void anHmacTokenIsRefusedEvenKeyedWithThePublishedPublicKey() throws Exception {
        // The classic confusion: HS256 "signed" with the RSA public key's bytes, naming its key id.
        byte[] publicBytes = GOOGLE_KEY.toRSAPublicKey().getEncoded();
        String hs = LocalJwks.sign(
                JWSAlgorithm.HS256,
                GOOGLE_KEY.getKeyID(),
                new MACSigner(publicBytes),
                LocalJwks.google(GOOGLE_CLIENT, subject(), email()).build());
        assertGoogleRefused(hs, "algorithm HS256 is not accepted");
    }

    @Test
    void aTokenNamingAKeyTheProviderDoesNotPublishIsRefused() {
        RSAKey stranger = LocalJwks.rsa("never-published-" + UUID.randomUUID());
        assertGoogleRefused(
                LocalJwks.sign(
                        stranger,
                        LocalJwks.google(GOOGLE_CLIENT, subject(), email()).build()),
                "unknown key id never-published-");
    }

    @Test
    void aKeyFromAnotherSetWithThePublishedKeyIdIsRefused() {
        RSAKey impostor = LocalJwks.rsa(GOOGLE_KEY.getKeyID());
        assertGoogleRefused(
                LocalJwks.sign(
                        impostor,
                        LocalJwks.google(GOOGLE_CLIENT, subject(), email()).build()),
                "Invalid signature");
        // Apple's key, presented to Google under Apple's own id, is not Google's either.
        assertGoogleRefused(
                LocalJwks.sign(
                        APPLE_KEY,
                        LocalJwks.google(GOOGLE_CLIENT, subject(), email()).build()),
                "unknown key id a1");
    }

    @Test
    void aTokenWhosePayloadWasAlteredIsRefused() {
        String genuine = googleToken(subject(), email());
        String[] parts = genuine.split("\\.");
        String altered = parts[0] + "."
                + Base64URL.encode(LocalJwks.google(GOOGLE_CLIENT, subject(), "victim@example.test")
                        .build()
                        .toString())
                + "." + parts[2];
        assertGoogleRefused(altered, "Invalid signature");
    }

    @Test
    void anRs256TokenNamingTheEcKeyIsRefused() {
        String mismatched = LocalJwks.sign(
                JWSAlgorithm.RS256,
                GOOGLE_EC_KEY.getKeyID(),
                LocalJwks.signer(GOOGLE_KEY),
                LocalJwks.google(GOOGLE_CLIENT, subject(), email()).build());
        assertGoogleRefused(mismatched, "no matching key");
    }

    @Test
    void theWrongIssuerAudienceOrTimesAreRefused() {
        Instant now = Instant.now();
        assertGoogleRefused(
                LocalJwks.sign(
                        GOOGLE_KEY,
                        LocalJwks.google(GOOGLE_CLIENT, subject(), email())
                                .issuer("https://evil.example")
                                .build()),
                "issuer https://evil.example is not Google's");
        assertGoogleRefused(
                LocalJwks.sign(
                        GOOGLE_KEY,
                        LocalJwks.google("someone-elses-app.test", subject(), email())
                                .build()),
                "names none of the client ids");
        assertGoogleRefused(
                LocalJwks.sign(
                        GOOGLE_KEY,
                        LocalJwks.google(GOOGLE_CLIENT, subject(), email())
                                .issueTime(Date.from(now.minusSeconds(7200)))
                                .expirationTime(Date.from(now.minusSeconds(120)))
                                .build()),
                "expired at");
        assertGoogleRefused(
                LocalJwks.sign(
                        GOOGLE_KEY,
                        LocalJwks.google(GOOGLE_CLIENT, subject(), email())
                                .issueTime(Date.from(now.plusSeconds(600)))
                                .build()),
                "issued in the future");
        // Apple's issuer is Apple's alone.
        assertRefused(
                "/api/v1/auth/oauth/apple",
                new JsonObject()
                        .put(
                                "idToken",
                                LocalJwks.sign(
                                        APPLE_KEY,
                                        LocalJwks.apple(APPLE_CLIENT, subject(), email())
                                                .issuer("https://accounts.google.com")
                                                .build())),
                "issuer https://accounts.google.com is not Apple's");
    }

    @Test
    void aNonceThatIsNotTheTokensIsRefused() {
        String token = LocalJwks.sign(
                GOOGLE_KEY,
                LocalJwks.google(GOOGLE_CLIENT, subject(), email())
                        .claim("nonce", "theirs")
                        .build());
        assertRefused(
                "/api/v1/auth/oauth/google",
                new JsonObject().put("idToken", token).put("nonce", "mine"),
                "nonce does not match");
        assertRefused(
                "/api/v1/auth/oauth/google",
                new JsonObject().put("idToken", googleToken(subject(), email())).put("nonce", "mine"),
                "no nonce");
    }

    @Test
    void aRefusalOfALinkedSubjectIsAuditedOnItsUser() {
        String subject = subject();
        JsonObject tokens = signedIn(google(googleToken(subject, email())));
        UUID userId = UUID.fromString(
                me(tokens.getString("accessToken")).getJsonObject("user").getString("id"));
        assertGoogleRefused(
                LocalJwks.sign(
                        LocalJwks.rsa(GOOGLE_KEY.getKeyID()),
                        LocalJwks.google(GOOGLE_CLIENT, subject, email()).build()),
                "Invalid signature");
        assertThat(Sql.admin()
                        .string(
                                "SELECT details->>'reason' FROM audit_log WHERE actor_id = ? AND action = 'login.failed'",
                                userId))
                .contains("Invalid signature");
    }

    // ------------------------------------------------------------------------------ identities

    static JsonArray identities(String accessToken) {
        HttpResponse<Buffer> list = server.send(GET, "/api/v1/me/identities", accessToken);
        assertThat(list.statusCode()).as(list.bodyAsString()).isEqualTo(200);
        assertThat(list.bodyAsJsonObject().getValue("nextCursor")).isNull();
        return list.bodyAsJsonObject().getJsonArray("items");
    }

    static java.util.List<String> providers(String accessToken) {
        return identities(accessToken).stream()
                .map(i -> ((JsonObject) i).getString("provider"))
                .toList();
    }

    @Test
    void theLastWayToSignInCannotBeUnlinkedButAnyOtherCan() {
        String email = email();
        String access = signedIn(google(googleToken(subject(), email))).getString("accessToken");
        HttpResponse<Buffer> last = server.send(DELETE, "/api/v1/me/identities/google", access);
        assertThat(last.statusCode()).isEqualTo(409);
        assertThat(last.bodyAsJsonObject().getString("code")).isEqualTo("last_sign_in_method");

        // Apple, with the same verified address, links to the same user: now either may go, not both.
        signedIn(apple(new JsonObject()
                .put(
                        "idToken",
                        LocalJwks.sign(
                                APPLE_KEY,
                                LocalJwks.apple(APPLE_CLIENT, subject(), email).build()))));
        assertThat(providers(access)).containsExactly("google", "apple");
        assertThat(server.send(DELETE, "/api/v1/me/identities/google", access).statusCode())
                .isEqualTo(204);
        assertThat(providers(access)).containsExactly("apple");
        assertThat(queued(email, "sign_in_method_removed")).isEqualTo(1);
        assertThat(server.send(DELETE, "/api/v1/me/identities/google", access).statusCode())
                .as("no longer linked")
                .isEqualTo(404);
        assertThat(server.send(DELETE, "/api/v1/me/identities/apple", access).statusCode())
                .isEqualTo(409);
        assertThat(server.send(DELETE, "/api/v1/me/identities/github", access).statusCode())
                .isEqualTo(404);
    }

    @Test
    void aUserWithAPasswordMayUnlinkTheirOnlyProvider() {
        String email = "pw-" + UUID.randomUUID() + "@example.test";
        TestUsers.TestUser user = new TestUsers(server).create(email, true);
        Sql.admin()
                .update(
                        "UPDATE users SET password_hash = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA' WHERE id = ?",
                        user.userId());
        signedIn(google(googleToken(subject(), email)));
        assertThat(identities(user.token())).hasSize(1);
        assertThat(server.send(DELETE, "/api/v1/me/identities/google", user.token())
                        .statusCode())
                .isEqualTo(204);
        assertThat(identities(user.token())).isEmpty();
        assertThat(audited(user.userId(), "identity.unlinked")).isEqualTo(1);
    }

    /** The reset link in the newest mail GreenMail received for {@code email}. */
    private static String resetLinkMailedTo(String email) throws Exception {
        java.util.regex.Pattern link =
                java.util.regex.Pattern.compile("https?://\\S*/reset-password\\?token=[^\\s\"<>]+");
        long deadline = System.nanoTime() + 15_000_000_000L;
        while (System.nanoTime() < deadline) {
            for (jakarta.mail.internet.MimeMessage m : smtp.getReceivedMessages()) {
                if (java.util.Arrays.stream(m.getAllRecipients())
                        .anyMatch(a -> a.toString().equalsIgnoreCase(email))) {
                    java.util.regex.Matcher found = link.matcher(LocalSmtp.part(m, "text/plain"));
                    if (found.find()) {
                        return found.group();
                    }
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no password reset mail reached " + email);
    }
}
