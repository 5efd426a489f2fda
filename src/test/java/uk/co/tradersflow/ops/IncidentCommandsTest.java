package uk.co.tradersflow.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static uk.co.tradersflow.support.Sql.strings;

import io.vertx.core.http.HttpMethod;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import uk.co.tradersflow.auth.AccessTokens;
import uk.co.tradersflow.auth.JwtKeySet;
import uk.co.tradersflow.config.ConfigLoader;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.platform.crypto.Pem;
import uk.co.tradersflow.platform.crypto.ServerKeys;
import uk.co.tradersflow.support.LogCapture;
import uk.co.tradersflow.support.OpsCli;
import uk.co.tradersflow.support.OpsCli.Run;
import uk.co.tradersflow.support.ScratchDatabase;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/** The containment levers run from the command line: end sessions, rotate the JWT signing key. */
class IncidentCommandsTest {
    static final String ROUTE = "/api/v1/customers";
    static TestServer server;
    static TestUsers users;

    @RegisterExtension
    static final ServerExtension lifecycle =
            ServerExtension.withDefaults().then(s -> server = s).then(s -> users = new TestUsers(s));

    @TempDir
    Path dir;

    private static Run run(Map<String, String> env, String... args) {
        return OpsCli.run(env, args);
    }

    private static Map<String, String> serverEnv() {
        return OpsCli.envOf(server);
    }

    private static int status(String token) {
        return server.send(HttpMethod.GET, ROUTE, token).statusCode();
    }

    private static void awaitStatus(String token, int expected) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(3).toNanos();
        while (status(token) != expected && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(status(token)).isEqualTo(expected);
    }

    @Test
    void endSessionsForAUserSignsOutEveryDeviceOfThatUserOnlyAndAuditsIt() throws Exception {
        TestUser phone = users.create("victim-" + UUID.randomUUID() + "@example.test", true);
        TestUser laptop = users.newSession(phone.accountId(), phone.userId(), phone.email());
        TestUser bystander = users.create();
        assertThat(status(phone.token())).isEqualTo(200);
        assertThat(status(laptop.token())).isEqualTo(200);

        Run r = run(serverEnv(), "end-sessions", "--user", phone.email().toUpperCase());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("ended 2 session(s)");

        awaitStatus(phone.token(), 401);
        awaitStatus(laptop.token(), 401);
        assertThat(status(bystander.token())).isEqualTo(200);
        try (Connection c = server.env.admin()) {
            assertThat(strings(c, "SELECT revoked_reason FROM sessions WHERE user_id = '" + phone.userId() + "'"))
                    .containsExactly("incident", "incident");
            assertThat(strings(
                            c,
                            "SELECT details->>'sessions' FROM audit_log WHERE action = 'sessions_ended' AND account_id = '"
                                    + phone.accountId() + "'"))
                    .containsExactly("2");
        }
    }

    @Test
    void suspendingAnAccountRefusesItsTokensUntilResumedAndAuditsBoth() throws Exception {
        TestUser u = users.create();
        TestUser other = users.create();
        assertThat(status(u.token())).isEqualTo(200);
        try (LogCapture log = new LogCapture()) {
            Run suspended = run(
                    serverEnv(), "suspend-account", "--account", u.accountId().toString(), "--reason", "INC-7 fraud");
            assertThat(suspended.exit()).as(suspended.err()).isZero();
            awaitStatus(u.token(), 403);
            // The audit entry's after-commit signal went over the command's own bus, which knows its
            // codec (the hooks run on its event loop just after the command's result is handed back).
            assertThat(log.text()).doesNotContain("after-commit hook failed").doesNotContain("No message codec");
        }
        assertThat(server.send(HttpMethod.GET, ROUTE, u.token())
                        .bodyAsJsonObject()
                        .getString("code"))
                .isEqualTo("account_suspended");
        assertThat(status(other.token())).isEqualTo(200);
        Run twice =
                run(serverEnv(), "suspend-account", "--account", u.accountId().toString(), "--reason", "again");
        assertThat(twice.exit()).isEqualTo(1);
        assertThat(twice.out()).contains("nothing changed");

        Run resumed = run(
                serverEnv(),
                "suspend-account",
                "--account",
                u.accountId().toString(),
                "--reason",
                "INC-7 closed",
                "--resume");
        assertThat(resumed.exit()).as(resumed.err()).isZero();
        awaitStatus(u.token(), 200);
        try (Connection c = server.env.admin()) {
            assertThat(strings(
                            c,
                            "SELECT action || ' ' || (details->>'reason') FROM audit_log WHERE account_id = '"
                                    + u.accountId() + "' AND action LIKE 'account_%' ORDER BY id"))
                    .containsExactly("account_suspended INC-7 fraud", "account_resumed INC-7 closed");
        }
    }

    @Test
    void endSessionsForEveryoneRevokesAllLiveSessionsWithOnePlatformAuditEntry() throws Exception {
        // A database of its own: ending every session of the run's shared database would sign out other test classes.
        try (ScratchDatabase db = ScratchDatabase.latest()) {
            try (Connection c = db.admin();
                    Statement s = c.createStatement()) {
                for (int i = 0; i < 3; i++) {
                    s.execute(
                            "WITH a AS (INSERT INTO accounts (business_name) VALUES ('B" + i + "') RETURNING id), "
                                    + "u AS (INSERT INTO users (account_id, email) SELECT id, 'u" + i
                                    + "@scratch.test' FROM a RETURNING id, account_id) "
                                    + "INSERT INTO sessions (account_id, user_id, expires_at) SELECT account_id, id, now() + interval '1 day' FROM u");
                }
            }
            Run r = run(
                    Map.of("TF_DB_ADMIN_URL", db.adminUrl(), "TF_DEV_DATA_DIR", dir.toString()),
                    "end-sessions",
                    "--all");
            assertThat(r.exit()).as(r.err()).isZero();
            assertThat(r.out()).contains("ended 3 session(s) platform-wide");
            try (Connection c = db.admin()) {
                assertThat(strings(c, "SELECT count(*)::text FROM sessions WHERE revoked_at IS NULL"))
                        .containsExactly("0");
                assertThat(strings(
                                c,
                                "SELECT coalesce(account_id::text, 'none') || ' ' || target_type || ' ' || (details->>'sessions') "
                                        + "FROM audit_log WHERE action = 'sessions_ended'"))
                        .containsExactly("none platform 3");
            }
        }
    }

    @Test
    void aMistakenCommandLineChangesNothingAndExitsWithTwo() {
        assertThat(run(serverEnv(), "end-sessions").exit()).isEqualTo(2);
        assertThat(run(serverEnv(), "end-sessions", "--user", "a@b.test", "--all")
                        .exit())
                .isEqualTo(2);
        Run unknown = run(serverEnv(), "end-sessions", "--everyone");
        assertThat(unknown.exit()).isEqualTo(2);
        assertThat(unknown.err()).contains("unknown option --everyone");
        assertThat(run(serverEnv(), "incident-notice", "--all", "--accounts", "x")
                        .exit())
                .isEqualTo(2);
        assertThat(run(
                                serverEnv(),
                                "incident-notice",
                                "--accounts",
                                "not-a-uuid",
                                "--subject",
                                "s",
                                "--body-file",
                                "/dev/null")
                        .err())
                .contains("--accounts must be account ids");
    }

    @Test
    void rotatingTheJwtKeyKeepsEarlierTokensValidOnTheRestartedServerWhileNewOnesUseTheNewKey() {
        Path devDir = dir.resolve("dev");
        TestUser u;
        String oldKid;
        Map<String, String> settings = Map.of("TF_DEV_DATA_DIR", devDir.toString());
        try (TestServer before = TestServer.start(settings)) {
            TestUsers beforeUsers = new TestUsers(before);
            u = beforeUsers.create();
            oldKid = kid(u.token());
        }
        Run r = run(Map.of("TF_DEV_DATA_DIR", devDir.toString()), "rotate-jwt-key");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("key " + oldKid + " still verifies");

        try (TestServer after = TestServer.start(settings)) {
            assertThat(after.send(HttpMethod.GET, ROUTE, u.token()).statusCode())
                    .as("token of the retired key")
                    .isEqualTo(200);
            TestUser fresh = new TestUsers(after).create();
            assertThat(kid(fresh.token())).isNotEqualTo(oldKid);
            assertThat(r.out()).contains("new signing key " + kid(fresh.token()));
            assertThat(after.send(HttpMethod.GET, ROUTE, fresh.token()).statusCode())
                    .isEqualTo(200);
        }
    }

    @Test
    void rotatingWithoutOverlapRefusesEveryEarlierToken() {
        Map<String, String> env = Map.of("TF_DEV_DATA_DIR", dir.toString());
        AccessTokens first = tokens(env);
        String earlier = first.mint(UUID.randomUUID(), UUID.randomUUID(), UUID.randomUUID(), Optional.empty());
        assertThat(run(env, "rotate-jwt-key").exit()).isZero();
        assertThat(verifies(tokens(env), earlier))
                .as("overlap after a normal rotation")
                .isTrue();
        Run r = run(env, "rotate-jwt-key", "--no-overlap");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("every earlier token is refused");
        assertThat(verifies(tokens(env), earlier)).isFalse();
    }

    @Test
    void rotationRewritesTheMountedKeyFilesWithOwnerOnlyModes() throws Exception {
        Path key = dir.resolve("jwt.pem");
        Path previous = dir.resolve("jwt-previous.pem");
        String oldPem = Pem.privateKeyPem(Pem.generateP256().getPrivate());
        Files.writeString(key, oldPem);
        Map<String, String> env = new HashMap<>(Map.of(
                "TF_DEV_DATA_DIR",
                dir.resolve("dev").toString(),
                "TF_JWT_PRIVATE_KEY_FILE",
                key.toString(),
                "TF_JWT_PREVIOUS_KEYS_FILE",
                previous.toString()));
        Files.writeString(previous, "");
        Run r = run(env, "rotate-jwt-key");
        assertThat(r.exit()).as(r.err()).isZero();
        String oldKid = JwtKeySet.kid(Pem.readEcPrivateKey(oldPem).getPublic());
        assertThat(Files.readString(key)).isNotEqualTo(oldPem);
        assertThat(Pem.readEcPublicKeys(Files.readString(previous)))
                .extracting(JwtKeySet::kid)
                .containsExactly(oldKid);
        assertThat(Files.readString(previous)).doesNotContain("PRIVATE");
        for (Path f : new Path[] {key, previous}) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f)))
                    .isEqualTo("rw-------");
        }
        assertThat(dir.resolve("dev")).doesNotExist();
    }

    @Test
    void aKeyGivenInlineIsNotRotatedFromHere() {
        String pem = Pem.privateKeyPem(Pem.generateP256().getPrivate());
        Run r = run(Map.of("TF_DEV_DATA_DIR", dir.toString(), "TF_JWT_PRIVATE_KEY", pem), "rotate-jwt-key");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err())
                .contains("TF_JWT_PRIVATE_KEY is set inline")
                .doesNotContain(pem.lines().skip(1).findFirst().orElseThrow());
    }

    private static AccessTokens tokens(Map<String, String> env) {
        return new AccessTokens(
                ServerKeys.resolve(ConfigLoader.load(env, Optional.empty())),
                Duration.ofMinutes(15),
                Clock.systemUTC());
    }

    private static boolean verifies(AccessTokens tokens, String token) {
        try {
            TestServer.await(tokens.verify(token));
            return true;
        } catch (AppError e) {
            return false;
        }
    }

    private static String kid(String token) {
        String header = new String(
                java.util.Base64.getUrlDecoder().decode(token.substring(0, token.indexOf('.'))),
                StandardCharsets.UTF_8);
        return new io.vertx.core.json.JsonObject(header).getString("kid");
    }
}
