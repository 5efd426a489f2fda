package uk.co.tradersflow.auth;

import static io.vertx.core.http.HttpMethod.DELETE;
import static io.vertx.core.http.HttpMethod.GET;
import static io.vertx.core.http.HttpMethod.POST;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.support.LogCapture;
import uk.co.tradersflow.support.MailedLinks;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.Sql;
import uk.co.tradersflow.support.TestServer;

/** Sign-up to sign-out through the public API, with the attacks the security page promises to withstand. */
class SignInFlowTest {
    static final String PASSWORD = "correct horse battery staple";
    static TestServer server;

    @RegisterExtension
    static final ServerExtension lifecycle = ServerExtension.with(Map.of(
                    "TF_SMTP_PORT",
                    Integer.toString(TestServer.freePort()),
                    "TF_LOGIN_MAX_FAILURES",
                    "3",
                    "TF_LOGIN_LOCKOUT_SECONDS",
                    "60",
                    "TF_LOGIN_IP_LIMIT_PER_MINUTE",
                    "1000",
                    "TF_REFRESH_REUSE_GRACE_SECONDS",
                    "10"))
            .then(s -> server = s);

    static HttpResponse<Buffer> post(String path, JsonObject body) {
        return TestServer.await(server.request(POST, path).sendJsonObject(body));
    }

    /** The running server, for the other auth test classes that start theirs into {@link #server}. */
    static TestServer server() {
        return server;
    }

    /**
     * Settings for an auth test class with its own Redis: {@code redis}'s, mail to a closed port, and a
     * 10-minute lockout after {@code maxFailures} wrong guesses.
     */
    static java.util.Map<String, String> ownRedisSettings(java.util.Map<String, String> redis, int maxFailures) {
        java.util.Map<String, String> settings = new java.util.HashMap<>(redis);
        settings.put("TF_SMTP_PORT", Integer.toString(TestServer.freePort()));
        settings.put("TF_LOGIN_MAX_FAILURES", Integer.toString(maxFailures));
        settings.put("TF_LOGIN_LOCKOUT_SECONDS", "600");
        return settings;
    }

    static HttpResponse<Buffer> login(String email, String password) {
        return post("/api/v1/auth/login", new JsonObject().put("email", email).put("password", password));
    }

    /** Three wrong guesses at {@code email}'s password, then a sign-in with {@code password} from a known device. */
    static HttpResponse<Buffer> loginFromDeviceAfterGuesses(String email, String password, String deviceToken) {
        for (int i = 0; i < 3; i++) {
            login(email, "guess " + i);
        }
        return post(
                "/api/v1/auth/login",
                new JsonObject().put("email", email).put("password", password).put("deviceToken", deviceToken));
    }

    /** The signed-in user's password change, {@code current} to {@code next}. */
    static HttpResponse<Buffer> changePassword(String accessToken, String current, String next) {
        return server.send(
                POST,
                "/api/v1/auth/password",
                accessToken,
                new JsonObject().put("currentPassword", current).put("newPassword", next));
    }

    /** The signed-in user's email change to {@code newEmail}, confirmed with {@code password}. */
    static HttpResponse<Buffer> changeEmail(String accessToken, String password, String newEmail) {
        return server.send(
                POST,
                "/api/v1/auth/email",
                accessToken,
                new JsonObject().put("currentPassword", password).put("newEmail", newEmail));
    }

    /** An emailed reset link's {@code token} used to set {@code newPassword}. */
    static HttpResponse<Buffer> confirmReset(String token, String newPassword) {
        return post(
                "/api/v1/auth/password-reset/confirm",
                new JsonObject().put("token", token).put("newPassword", newPassword));
    }

    static String email() {
        return "trader-" + UUID.randomUUID() + "@example.test";
    }

    /** The token in the newest queued email of this template to this address. */
    static String mailedToken(String email, String template) {
        return MailedLinks.token(MailedLinks.newest(server, email, template));
    }

    static long queued(String email, String template) throws Exception {
        return Sql.admin()
                .count("SELECT count(*) FROM email_outbox WHERE recipient = ? AND template = ?", email, template);
    }

    /** Waits (at most 5 s) until {@code count} emails of this template are queued to this address: reset requests answer before they queue. */
    static void awaitQueued(String email, String template, long count) throws Exception {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (queued(email, template) < count && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
    }

    /** Signs up and verifies; answers the login body. */
    static JsonObject signedUpAndIn(String email) throws Exception {
        assertThat(server.signUp(email, PASSWORD).statusCode()).isEqualTo(201);
        assertThat(post("/api/v1/auth/verify-email", new JsonObject().put("token", mailedToken(email, "verify_email")))
                        .statusCode())
                .isEqualTo(204);
        HttpResponse<Buffer> login = login(email, PASSWORD);
        assertThat(login.statusCode()).as(login.bodyAsString()).isEqualTo(200);
        return login.bodyAsJsonObject();
    }

    /**
     * Anyone may sign up with anyone's address, so the verification email carries nothing the
     * signer typed: a business name cannot turn it into a phishing message from TradersFlow.
     */
    @Test
    void theVerificationEmailCarriesNothingTheSignerTyped() throws Exception {
        String email = email();
        String lure = "Your invoice is overdue pay now at evil.example";
        assertThat(post(
                                "/api/v1/auth/signup",
                                new JsonObject()
                                        .put("email", email)
                                        .put("password", PASSWORD)
                                        .put("businessName", lure))
                        .statusCode())
                .isEqualTo(201);
        List<String> models = Sql.admin()
                .strings("SELECT model FROM email_outbox WHERE recipient = ? AND template = 'verify_email'", email);
        assertThat(models).isNotEmpty();
        JsonObject model = new JsonObject(models.get(0));
        assertThat(model.fieldNames()).containsExactly("link");
        uk.co.tradersflow.email.EmailRenderer.Rendered rendered = new uk.co.tradersflow.email.EmailRenderer(
                        server.config.links().publicUrl().toString())
                .render(
                        uk.co.tradersflow.email.EmailTemplate.VERIFY_EMAIL,
                        model.copy().put("businessName", lure));
        assertThat(rendered.subject() + rendered.text() + rendered.html()).doesNotContain("evil.example");
    }

    @Test
    void signUpVerifySignInAndReadMe() throws Exception {
        String email = email();
        HttpResponse<Buffer> signup = post(
                "/api/v1/auth/signup",
                new JsonObject()
                        .put("email", " " + email.toUpperCase() + " ")
                        .put("password", PASSWORD)
                        .put("businessName", "Sparks Ltd"));
        assertThat(signup.statusCode()).isEqualTo(201);
        assertThat(signup.bodyAsJsonObject().fieldNames()).containsExactlyInAnyOrder("userId", "accountId");
        HttpResponse<Buffer> early = login(email, PASSWORD);
        assertThat(early.statusCode()).isEqualTo(403);
        assertThat(early.bodyAsJsonObject().getString("code")).isEqualTo("email_not_verified");
        String token = mailedToken(email, "verify_email");
        assertThat(post("/api/v1/auth/verify-email", new JsonObject().put("token", token))
                        .statusCode())
                .isEqualTo(204);
        assertThat(post("/api/v1/auth/verify-email", new JsonObject().put("token", token))
                        .statusCode())
                .as("single use")
                .isEqualTo(422);
        JsonObject tokens = login(email, PASSWORD).bodyAsJsonObject();
        assertThat(tokens.getString("tokenType")).isEqualTo("Bearer");
        assertThat(tokens.getLong("expiresIn")).isEqualTo(900);
        assertThat(tokens.getString("refreshToken")).startsWith("tfr_");
        assertThat(tokens.getString("deviceToken")).startsWith("tfd_");
        HttpResponse<Buffer> me = server.send(GET, "/api/v1/me", tokens.getString("accessToken"));
        assertThat(me.statusCode()).isEqualTo(200);
        assertThat(me.bodyAsJsonObject().getJsonObject("user").getString("email"))
                .isEqualTo(email);
        assertThat(me.bodyAsJsonObject().getJsonObject("user").getBoolean("emailVerified"))
                .isTrue();
        assertThat(me.bodyAsJsonObject().getJsonObject("account").getString("businessName"))
                .isEqualTo("Sparks Ltd");
        assertThat(me.getHeader("RateLimit-Limit")).isEqualTo("100");
        assertThat(me.getHeader("Cache-Control")).isEqualTo("no-store");
        assertThat(Sql.admin().string("SELECT password_hash FROM users WHERE email = ?", email))
                .startsWith("$argon2id$v=19$m=19456,t=2,p=1$")
                .doesNotContain(PASSWORD);
    }

    @Test
    void signingUpWithARegisteredEmailAnswersAlikeAndMailsTheOwnerInstead() throws Exception {
        String email = email();
        signedUpAndIn(email);
        HttpResponse<Buffer> again = post(
                "/api/v1/auth/signup",
                new JsonObject()
                        .put("email", email)
                        .put("password", "another long passphrase")
                        .put("businessName", "Impostor"));
        assertThat(again.statusCode()).isEqualTo(201);
        assertThat(again.bodyAsJsonObject().fieldNames()).containsExactlyInAnyOrder("userId", "accountId");
        assertThat(queued(email, "email_already_registered")).isEqualTo(1);
        assertThat(queued(email, "verify_email")).isEqualTo(1);
    }

    @Test
    void weakPasswordsAreRefused() {
        for (String weak : List.of("short", "password123", "QWERTYUIOP")) {
            HttpResponse<Buffer> r = post(
                    "/api/v1/auth/signup",
                    new JsonObject().put("email", email()).put("password", weak).put("businessName", "B"));
            assertThat(r.statusCode()).as(weak).isEqualTo(422);
            assertThat(r.bodyAsJsonObject().getString("code")).isEqualTo("weak_password");
        }
    }

    @Test
    void wrongPasswordAndUnknownEmailGetTheSameAnswer() throws Exception {
        String email = email();
        signedUpAndIn(email);
        HttpResponse<Buffer> wrong = login(email, "not the password at all");
        HttpResponse<Buffer> unknown = post(
                "/api/v1/auth/login",
                new JsonObject().put("email", email()).put("password", "not the password at all"));
        assertThat(wrong.statusCode()).isEqualTo(401);
        assertThat(unknown.statusCode()).isEqualTo(401);
        JsonObject a = wrong.bodyAsJsonObject();
        JsonObject b = unknown.bodyAsJsonObject();
        a.remove("instance");
        b.remove("instance");
        assertThat(a).isEqualTo(b);
        assertThat(a.getString("code")).isEqualTo("invalid_credentials");
    }

    @Test
    void unknownEmailsCostAnArgon2CheckLikeKnownOnes() throws Exception {
        String email = email();
        signedUpAndIn(email);
        long known = 0;
        long unknown = 0;
        for (int i = 0; i < 3; i++) {
            long t0 = System.nanoTime();
            login(email, "wrong password " + i);
            long t1 = System.nanoTime();
            post("/api/v1/auth/login", new JsonObject().put("email", email()).put("password", "wrong password " + i));
            long t2 = System.nanoTime();
            known += t1 - t0;
            unknown += t2 - t1;
            login(email, PASSWORD); // reset the counter
        }
        // Loose on purpose (a shared CI machine is noisy): skipping the Argon2 check for an unknown
        // email would answer it in about a tenth of the time, far outside this band.
        assertThat((double) unknown / known).isBetween(0.4, 2.5);
    }

    @Test
    void lockoutRefusesEvenTheRightPasswordWhateverTheCaseOrSpacesButNotAKnownDevice() throws Exception {
        String email = email();
        JsonObject first = signedUpAndIn(email);
        String device = first.getString("deviceToken");
        for (int i = 0; i < 3; i++) {
            assertThat(login(email, "guess " + i).statusCode()).isEqualTo(401);
        }
        for (String variant : List.of(email, email.toUpperCase(), "  " + email + " ")) {
            HttpResponse<Buffer> locked = login(variant, PASSWORD);
            assertThat(locked.statusCode()).as(variant).isEqualTo(429);
            assertThat(locked.bodyAsJsonObject().getString("code")).isEqualTo("too_many_attempts");
            assertThat(Long.parseLong(locked.getHeader("Retry-After"))).isBetween(1L, 60L);
        }
        assertThat(queued(email, "account_locked")).as("the owner is told once").isEqualTo(1);
        HttpResponse<Buffer> fromKnownDevice = post(
                "/api/v1/auth/login",
                new JsonObject().put("email", email).put("password", PASSWORD).put("deviceToken", device));
        assertThat(fromKnownDevice.statusCode())
                .as("a lockout caused elsewhere does not lock out a known device")
                .isEqualTo(200);
        HttpResponse<Buffer> forgedDevice = post(
                "/api/v1/auth/login",
                new JsonObject()
                        .put("email", email)
                        .put("password", PASSWORD)
                        .put("deviceToken", device.substring(0, device.length() - 2) + "xx"));
        assertThat(forgedDevice.statusCode()).isEqualTo(429);
        assertThat(post("/api/v1/auth/password-reset/request", new JsonObject().put("email", email))
                        .statusCode())
                .as("reset works while locked")
                .isEqualTo(202);
    }

    /**
     * Guesses sent all at once get no more than the limit's worth of password checks: each attempt
     * is counted before its check starts, so the rest are refused without one (the right password
     * too, when it comes after them), and the lockout follows.
     */
    @Test
    void guessesSentAtOnceGetNoMoreChecksThanTheLimit() throws Exception {
        String email = email();
        signedUpAndIn(email);
        List<io.vertx.core.Future<HttpResponse<Buffer>>> sent = new java.util.ArrayList<>();
        for (int i = 0; i < 20; i++) {
            sent.add(server.request(io.vertx.core.http.HttpMethod.POST, "/api/v1/auth/login")
                    .sendJsonObject(
                            new JsonObject().put("email", email).put("password", i == 19 ? PASSWORD : "guess " + i)));
        }
        TestServer.await(io.vertx.core.Future.join(sent));
        List<Integer> statuses = sent.stream().map(f -> f.result().statusCode()).toList();
        int max = server.config.auth().loginMaxFailures();
        assertThat(statuses).as("%s", statuses).isSubsetOf(200, 401, 429);
        assertThat(statuses.stream().filter(s -> s != 429).count())
                .as("passwords checked, %s", statuses)
                .isLessThanOrEqualTo(max);
        HttpResponse<Buffer> after = login(email, PASSWORD);
        if (!statuses.contains(200)) {
            assertThat(after.statusCode())
                    .as("locked once the checked guesses failed")
                    .isEqualTo(429);
        }
    }

    /** NFKC folds no-break spaces and full-width letters into the plain address: no spelling gets a fresh count. */
    @Test
    void everyUnicodeSpellingOfAnAddressSharesOneLockout() throws Exception {
        String email = email();
        signedUpAndIn(email);
        String fullWidthT = "\uFF54" + email.substring(1);
        List<String> spellings = List.of(email + "\u00A0", "\u202F" + email, fullWidthT);
        for (String spelling : spellings) {
            assertThat(login(spelling, "guess").statusCode()).as(spelling).isEqualTo(401);
        }
        for (String spelling : List.of(email, email + "\u00A0", "\u2007" + email + "\u2007", fullWidthT)) {
            assertThat(login(spelling, PASSWORD).statusCode())
                    .as("locked, even spelt " + spelling)
                    .isEqualTo(429);
        }
    }

    /** Stores the password hashed with weaker, older Argon2 parameters, so the next sign-in rehashes it. */
    static void storeHashWithOlderParameters(String email, String password) throws Exception {
        byte[] salt = "sixteen byte salt".substring(0, 16).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        org.bouncycastle.crypto.generators.Argon2BytesGenerator argon2 =
                new org.bouncycastle.crypto.generators.Argon2BytesGenerator();
        argon2.init(new org.bouncycastle.crypto.params.Argon2Parameters.Builder(
                        org.bouncycastle.crypto.params.Argon2Parameters.ARGON2_id)
                .withVersion(org.bouncycastle.crypto.params.Argon2Parameters.ARGON2_VERSION_13)
                .withMemoryAsKB(8192)
                .withIterations(1)
                .withParallelism(1)
                .withSalt(salt)
                .build());
        byte[] hash = new byte[32];
        argon2.generateBytes(password.getBytes(java.nio.charset.StandardCharsets.UTF_8), hash);
        java.util.Base64.Encoder b64 = java.util.Base64.getEncoder().withoutPadding();
        String older = "$argon2id$v=19$m=8192,t=1,p=1$" + b64.encodeToString(salt) + "$" + b64.encodeToString(hash);
        assertThat(Sql.admin().update("UPDATE users SET password_hash = ? WHERE email = ?", older, email))
                .isEqualTo(1);
    }

    /** New Argon2 parameters rehash the password at the next sign-in; that must not retire the user's device tokens. */
    @Test
    void aRehashAtSignInKeepsEveryDeviceTokenValid() throws Exception {
        String email = email();
        String device = signedUpAndIn(email).getString("deviceToken");
        storeHashWithOlderParameters(email, PASSWORD);
        assertThat(login(email, PASSWORD).statusCode()).isEqualTo(200);
        assertThat(Sql.admin().string("SELECT password_hash FROM users WHERE email = ?", email))
                .as("rehashed with today's parameters")
                .startsWith("$argon2id$v=19$m=19456,t=2,p=1$");
        assertThat(loginFromDeviceAfterGuesses(email, PASSWORD, device).statusCode())
                .as("the device token from before the rehash still has its own counter")
                .isEqualTo(200);
    }

    @Test
    void signingUpWithAPaddedAddressIsTheSameAddressAndAnAddressWithSpaceInsideIs422() throws Exception {
        String registered = email();
        signedUpAndIn(registered);
        HttpResponse<Buffer> again = post(
                "/api/v1/auth/signup",
                new JsonObject()
                        .put("email", registered + "\u00A0")
                        .put("password", PASSWORD)
                        .put("businessName", "Copycat Ltd"));
        assertThat(again.statusCode()).isEqualTo(201);
        assertThat(queued(registered, "email_already_registered")).isEqualTo(1);
        String fresh = email();
        assertThat(post(
                                "/api/v1/auth/signup",
                                new JsonObject()
                                        .put("email", fresh + "\u00A0")
                                        .put("password", PASSWORD)
                                        .put("businessName", "Fresh Ltd"))
                        .statusCode())
                .as("stored as the plain address")
                .isEqualTo(201);
        assertThat(queued(fresh, "verify_email")).isEqualTo(1);
        HttpResponse<Buffer> inside = post(
                "/api/v1/auth/signup",
                new JsonObject()
                        .put("email", "a\u00A0b@example.test")
                        .put("password", PASSWORD)
                        .put("businessName", "Space Ltd"));
        assertThat(inside.statusCode()).isEqualTo(422);
        assertThat(inside.bodyAsJsonObject()
                        .getJsonArray("errors")
                        .getJsonObject(0)
                        .getString("field"))
                .isEqualTo("email");
    }

    /** Someone signed up with my address and never verified it: a password reset from my mailbox takes it back. */
    @Test
    void aPasswordResetVerifiesTheAddressSoAnUnverifiedSquatterIsLockedOut() throws Exception {
        String email = email();
        assertThat(post(
                                "/api/v1/auth/signup",
                                new JsonObject()
                                        .put("email", email)
                                        .put("password", "the squatters passphrase")
                                        .put("businessName", "Squatter Ltd"))
                        .statusCode())
                .isEqualTo(201);
        String squattersLink = mailedToken(email, "verify_email");
        post("/api/v1/auth/password-reset/request", new JsonObject().put("email", email));
        awaitQueued(email, "password_reset", 1);
        assertThat(post(
                                "/api/v1/auth/password-reset/confirm",
                                new JsonObject()
                                        .put("token", mailedToken(email, "password_reset"))
                                        .put("newPassword", PASSWORD))
                        .statusCode())
                .isEqualTo(204);
        assertThat(login(email, PASSWORD).statusCode()).isEqualTo(200);
        assertThat(login(email, "the squatters passphrase").statusCode()).isEqualTo(401);
        assertThat(post("/api/v1/auth/verify-email", new JsonObject().put("token", squattersLink))
                        .statusCode())
                .as("links sent before the reset are spent")
                .isEqualTo(422);
    }

    @Test
    void usingOneResetLinkSpendsTheOthers() throws Exception {
        String email = email();
        signedUpAndIn(email);
        List<String> links = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            long before = queued(email, "password_reset");
            post("/api/v1/auth/password-reset/request", new JsonObject().put("email", email));
            awaitQueued(email, "password_reset", before + 1);
            links.add(mailedToken(email, "password_reset"));
        }
        assertThat(links.get(0)).isNotEqualTo(links.get(1));
        assertThat(post(
                                "/api/v1/auth/password-reset/confirm",
                                new JsonObject().put("token", links.get(1)).put("newPassword", "the newest passphrase"))
                        .statusCode())
                .isEqualTo(204);
        assertThat(post(
                                "/api/v1/auth/password-reset/confirm",
                                new JsonObject()
                                        .put("token", links.get(0))
                                        .put("newPassword", "an older link's passphrase"))
                        .statusCode())
                .isEqualTo(422);
    }

    @Test
    void refreshRotatesAndARaceOrARetryWithinGraceGetsTheSameSuccessor() throws Exception {
        JsonObject tokens = signedUpAndIn(email());
        String refresh = tokens.getString("refreshToken");
        List<Future<HttpResponse<Buffer>>> racing = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            racing.add(server.request(POST, "/api/v1/auth/refresh")
                    .sendJsonObject(new JsonObject().put("refreshToken", refresh)));
        }
        TestServer.await(Future.join(racing));
        String successor = null;
        for (Future<HttpResponse<Buffer>> f : racing) {
            assertThat(f.result().statusCode()).as(f.result().bodyAsString()).isEqualTo(200);
            String next = f.result().bodyAsJsonObject().getString("refreshToken");
            assertThat(next).isNotEqualTo(refresh);
            successor = successor == null ? next : successor;
            assertThat(next).as("every racer gets the same successor").isEqualTo(successor);
        }
        HttpResponse<Buffer> next = post("/api/v1/auth/refresh", new JsonObject().put("refreshToken", successor));
        assertThat(next.statusCode()).isEqualTo(200);
        assertThat(server.send(GET, "/api/v1/me", next.bodyAsJsonObject().getString("accessToken"))
                        .statusCode())
                .isEqualTo(200);
    }

    @Test
    void aSpentRefreshTokenPresentedAfterTheGraceRevokesTheWholeFamily() throws Exception {
        String email = email();
        JsonObject tokens = signedUpAndIn(email);
        String old = tokens.getString("refreshToken");
        JsonObject rotated = post("/api/v1/auth/refresh", new JsonObject().put("refreshToken", old))
                .bodyAsJsonObject();
        Sql.admin()
                .update(
                        "UPDATE sessions SET refreshed_at = now() - interval '1 minute' "
                                + "WHERE user_id = (SELECT id FROM users WHERE email = ?)",
                        email);
        HttpResponse<Buffer> replay = post("/api/v1/auth/refresh", new JsonObject().put("refreshToken", old));
        assertThat(replay.statusCode()).isEqualTo(401);
        assertThat(post("/api/v1/auth/refresh", new JsonObject().put("refreshToken", rotated.getString("refreshToken")))
                        .statusCode())
                .as("the successor dies with the family")
                .isEqualTo(401);
        assertThat(awaitStatus(rotated.getString("accessToken"), 401))
                .as("its access token dies within a second")
                .isLessThan(1_000);
    }

    @Test
    void logoutEndsThisSessionAndLogoutAllEndsEveryOneWithinASecond() throws Exception {
        String email = email();
        JsonObject a = signedUpAndIn(email);
        JsonObject b = login(email, PASSWORD).bodyAsJsonObject();
        JsonObject c = login(email, PASSWORD).bodyAsJsonObject();
        JsonObject sessions = server.send(GET, "/api/v1/me/sessions", a.getString("accessToken"))
                .bodyAsJsonObject();
        assertThat(sessions.getJsonArray("items")).hasSize(3);
        assertThat(sessions.getJsonArray("items").stream()
                        .filter(o -> ((JsonObject) o).getBoolean("current"))
                        .count())
                .isEqualTo(1);

        assertThat(server.send(POST, "/api/v1/auth/logout", a.getString("accessToken"))
                        .statusCode())
                .isEqualTo(204);
        assertThat(awaitStatus(a.getString("accessToken"), 401)).isLessThan(1_000);
        assertThat(server.send(GET, "/api/v1/me", b.getString("accessToken")).statusCode())
                .isEqualTo(200);

        long epochBefore = fileUrlEpoch(email);
        assertThat(server.send(POST, "/api/v1/auth/logout-all", b.getString("accessToken"))
                        .statusCode())
                .isEqualTo(204);
        assertThat(awaitStatus(c.getString("accessToken"), 401)).isLessThan(1_000);
        assertThat(post("/api/v1/auth/refresh", new JsonObject().put("refreshToken", c.getString("refreshToken")))
                        .statusCode())
                .isEqualTo(401);
        assertThat(fileUrlEpoch(email)).as("signed file URLs die too").isEqualTo(epochBefore + 1);
    }

    @Test
    void endingOneOfMySessionsWorksButAnotherUsersSessionIs404() throws Exception {
        String email = email();
        JsonObject a = signedUpAndIn(email);
        JsonObject b = login(email, PASSWORD).bodyAsJsonObject();
        JsonObject stranger = signedUpAndIn(email());
        String bSession = server
                .send(GET, "/api/v1/me/sessions", b.getString("accessToken"))
                .bodyAsJsonObject()
                .getJsonArray("items")
                .stream()
                .map(o -> (JsonObject) o)
                .filter(o -> o.getBoolean("current"))
                .findFirst()
                .orElseThrow()
                .getString("id");
        assertThat(server.send(DELETE, "/api/v1/me/sessions/" + bSession, stranger.getString("accessToken"))
                        .statusCode())
                .isEqualTo(404);
        assertThat(server.send(DELETE, "/api/v1/me/sessions/" + bSession, a.getString("accessToken"))
                        .statusCode())
                .isEqualTo(204);
        assertThat(awaitStatus(b.getString("accessToken"), 401)).isLessThan(1_000);
        List<String> actions = new ArrayList<>();
        server.send(GET, "/api/v1/me/activity", a.getString("accessToken"))
                .bodyAsJsonObject()
                .getJsonArray("items")
                .forEach(o -> actions.add(((JsonObject) o).getString("action")));
        assertThat(actions).contains("session.ended", "login.succeeded", "email.verified", "account.signed_up");
        assertThat(actions.get(0)).isEqualTo("session.ended");
    }

    @Test
    void passwordResetIsAcceptedForAnyAddressSingleUseAndEndsEverySession() throws Exception {
        String email = email();
        JsonObject tokens = signedUpAndIn(email);
        assertThat(post("/api/v1/auth/password-reset/request", new JsonObject().put("email", email()))
                        .statusCode())
                .isEqualTo(202);
        assertThat(post("/api/v1/auth/password-reset/request", new JsonObject().put("email", email))
                        .statusCode())
                .isEqualTo(202);
        awaitQueued(email, "password_reset", 1);
        String token = mailedToken(email, "password_reset");
        String newPassword = "an entirely new passphrase";
        assertThat(confirmReset(token, newPassword).statusCode()).isEqualTo(204);
        assertThat(confirmReset(token, newPassword).statusCode()).isEqualTo(422);
        assertThat(awaitStatus(tokens.getString("accessToken"), 401)).isLessThan(1_000);
        assertThat(login(email, PASSWORD).statusCode()).isEqualTo(401);
        assertThat(login(email, newPassword).statusCode()).isEqualTo(200);
        // The device token from before the reset no longer buys a counter of its own.
        assertThat(loginFromDeviceAfterGuesses(email, newPassword, tokens.getString("deviceToken"))
                        .statusCode())
                .as("a device token from before the reset")
                .isEqualTo(429);
    }

    @Test
    void passwordsAndTokensNeverReachTheLog() throws Exception {
        try (LogCapture logs = new LogCapture()) {
            JsonObject tokens = signedUpAndIn(email());
            JsonObject refreshed = post(
                            "/api/v1/auth/refresh",
                            new JsonObject().put("refreshToken", tokens.getString("refreshToken")))
                    .bodyAsJsonObject();
            // Refused ones too: a token of the first form nobody holds, and one of the new form altered.
            String unknown = SecretTokens.generate("tfr_");
            String refreshToken = refreshed.getString("refreshToken");
            String altered = refreshToken.substring(0, 40)
                    + (refreshToken.charAt(40) == 'A' ? 'B' : 'A')
                    + refreshToken.substring(41);
            assertThat(post("/api/v1/auth/refresh", new JsonObject().put("refreshToken", unknown))
                            .statusCode())
                    .isEqualTo(401);
            assertThat(post("/api/v1/auth/refresh", new JsonObject().put("refreshToken", altered))
                            .statusCode())
                    .isEqualTo(401);
            String text = logs.text();
            assertThat(text)
                    .doesNotContain(PASSWORD)
                    .doesNotContain(tokens.getString("accessToken"))
                    .doesNotContain(tokens.getString("refreshToken"))
                    .doesNotContain(tokens.getString("deviceToken"))
                    .doesNotContain(refreshed.getString("accessToken"))
                    .doesNotContain(refreshToken)
                    .doesNotContain(unknown)
                    .doesNotContain(altered)
                    // The secret a refresh token carries is in no line either (its text is the token's body).
                    .doesNotContain(refreshToken.substring(4, 60));
        }
    }

    /** Milliseconds until GET /api/v1/me answers this status (polling), or a large number if it never does. */
    static long awaitStatus(String accessToken, int status) throws InterruptedException {
        long start = System.nanoTime();
        while (System.nanoTime() - start < 3_000_000_000L) {
            if (server.send(GET, "/api/v1/me", accessToken).statusCode() == status) {
                return (System.nanoTime() - start) / 1_000_000;
            }
            Thread.sleep(20);
        }
        return Long.MAX_VALUE;
    }

    static long fileUrlEpoch(String email) throws Exception {
        return Sql.admin()
                .count(
                        "SELECT a.file_url_epoch FROM accounts a JOIN users u ON u.account_id = a.id WHERE u.email = ?",
                        email);
    }
}
