package uk.co.tradersflow.admin.actions;

import static io.vertx.core.http.HttpMethod.GET;
import static io.vertx.core.http.HttpMethod.POST;
import static org.assertj.core.api.Assertions.assertThat;
import static uk.co.tradersflow.admin.actions.AdminActionsFixtures.action;
import static uk.co.tradersflow.admin.actions.AdminActionsFixtures.confirm;
import static uk.co.tradersflow.admin.actions.AdminActionsFixtures.proposed;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.support.FakeStripe;
import uk.co.tradersflow.support.Multipart;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.Sql;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/**
 * The suspend action, confirmed on one instance, reaches another at once: the account's access
 * tokens are answered 403 {@code account_suspended} there within a second, its signed file URLs
 * stop working, and neither sign-in nor refresh opens anything; reinstating lets the user back
 * in (the old file URLs stay dead).
 */
class SuspendActionTest {
    static final String PASSWORD = "correct horse battery staple";
    static Path storage;
    static FakeStripe stripe;
    static TestServer server;
    static TestUser owner;

    @RegisterExtension
    static final ServerExtension lifecycle = ServerExtension.with(() -> {
                stripe = new FakeStripe();
                storage = Files.createTempDirectory("tf-suspend-files");
                Map<String, String> s = new HashMap<>(AdminActionsFixtures.settings(stripe));
                s.put("TF_STORAGE_DIR", storage.toString());
                return s;
            })
            .closing(() -> stripe)
            .then(s -> {
                server = s;
                owner = AdminActionsFixtures.staff(new TestUsers(s), AdminActionsFixtures.OWNER);
            });

    /** The same deployment on its own ports: database, Redis prefix, keys and file storage shared. */
    private static TestServer secondInstance() {
        Map<String, String> s = new HashMap<>(AdminActionsFixtures.settings(stripe));
        s.put("TF_STORAGE_DIR", storage.toString());
        s.put("TF_DEV_DATA_DIR", server.config.ops().devDataDir().toString());
        return TestServer.start(s);
    }

    /** Signs up through the API (the address verified behind its back) and signs in; the login body. */
    private static JsonObject signedUpAndIn(TestServer on, String email) {
        HttpResponse<Buffer> signup = TestServer.await(on.request(POST, "/api/v1/auth/signup")
                .sendJsonObject(new JsonObject()
                        .put("email", email)
                        .put("password", PASSWORD)
                        .put("businessName", "Sparks Ltd")));
        assertThat(signup.statusCode()).as(signup.bodyAsString()).isEqualTo(201);
        Sql.admin().update("UPDATE users SET email_verified_at = now() WHERE email = ?", email);
        HttpResponse<Buffer> login = signIn(on, email);
        assertThat(login.statusCode()).as(login.bodyAsString()).isEqualTo(200);
        return login.bodyAsJsonObject();
    }

    private static HttpResponse<Buffer> signIn(TestServer on, String email) {
        return TestServer.await(on.request(POST, "/api/v1/auth/login")
                .sendJsonObject(new JsonObject().put("email", email).put("password", PASSWORD)));
    }

    private static HttpResponse<Buffer> refresh(TestServer on, String refreshToken) {
        return TestServer.await(on.request(POST, "/api/v1/auth/refresh")
                .sendJsonObject(new JsonObject().put("refreshToken", refreshToken)));
    }

    private static String signedUrlOfNewDocument(TestServer on, String accessToken) {
        byte[] pdf = "%PDF-1.7\nquote\n".getBytes(StandardCharsets.ISO_8859_1);
        HttpResponse<Buffer> uploaded = TestServer.await(on.request(POST, "/api/v1/documents", accessToken)
                .putHeader("Content-Type", Multipart.CONTENT_TYPE)
                .sendBuffer(new Multipart()
                        .file("file", "quote.pdf", "application/pdf", pdf)
                        .build()));
        assertThat(uploaded.statusCode()).as(uploaded.bodyAsString()).isEqualTo(201);
        HttpResponse<Buffer> url =
                on.send(GET, "/api/v1/documents/" + uploaded.bodyAsJsonObject().getString("id") + "/url", accessToken);
        assertThat(url.statusCode()).as(url.bodyAsString()).isEqualTo(200);
        return url.bodyAsJsonObject().getString("url");
    }

    private static HttpResponse<Buffer> fetch(TestServer on, String url) {
        URI uri = URI.create(url);
        return TestServer.await(
                on.request(GET, uri.getRawPath() + "?" + uri.getRawQuery()).send());
    }

    /** Milliseconds until {@code probe} answers {@code status}; fails after 3 s. */
    private static long millisUntil(Supplier<HttpResponse<Buffer>> probe, int status) throws InterruptedException {
        long start = System.nanoTime();
        while (probe.get().statusCode() != status) {
            assertThat(Duration.ofNanos(System.nanoTime() - start))
                    .as("reached %d in time", status)
                    .isLessThan(Duration.ofSeconds(3));
            Thread.sleep(20);
        }
        return Duration.ofNanos(System.nanoTime() - start).toMillis();
    }

    private static void confirmed(String action, UUID account, JsonObject params) {
        JsonObject p = proposed(server, owner.token(), action(action, account, params));
        HttpResponse<Buffer> done = confirm(server, owner.token(), p.getString("id"), p.getString("confirmationToken"));
        assertThat(done.statusCode()).as(done.bodyAsString()).isEqualTo(200);
    }

    @Test
    void aSuspensionConfirmedOnOneInstanceShutsTheAccountOutOnAnotherWithinOneSecond() throws Exception {
        try (TestServer b = secondInstance()) {
            String email = "suspended-" + UUID.randomUUID() + "@example.test";
            JsonObject login = signedUpAndIn(b, email);
            String access = login.getString("accessToken");
            UUID account =
                    UUID.fromString(Sql.admin().string("SELECT account_id::text FROM users WHERE email = ?", email));
            String url = signedUrlOfNewDocument(b, access);
            assertThat(fetch(b, url).statusCode()).isEqualTo(200);
            assertThat(b.send(GET, "/api/v1/customers", access).statusCode()).isEqualTo(200);

            confirmed("suspend", account, new JsonObject().put("reason", "card testing"));

            long ms = millisUntil(() -> b.send(GET, "/api/v1/customers", access), 403);
            assertThat(ms)
                    .as("the other instance refuses the token within a second")
                    .isLessThan(1000);
            HttpResponse<Buffer> refused = b.send(GET, "/api/v1/customers", access);
            assertThat(refused.bodyAsJsonObject().getString("code")).isEqualTo("account_suspended");
            assertThat(millisUntil(() -> fetch(b, url), 403)).as("signed URL").isLessThan(1000);
            HttpResponse<Buffer> signIn = signIn(b, email);
            assertThat(signIn.statusCode()).as(signIn.bodyAsString()).isEqualTo(403);
            assertThat(signIn.bodyAsJsonObject().getString("code")).isEqualTo("account_suspended");
            HttpResponse<Buffer> refreshed = refresh(b, login.getString("refreshToken"));
            assertThat(refreshed.statusCode()).as(refreshed.bodyAsString()).isEqualTo(403);
            assertThat(refreshed.bodyAsJsonObject().getString("code")).isEqualTo("account_suspended");

            confirmed("reinstate", account, new JsonObject());

            assertThat(millisUntil(() -> b.send(GET, "/api/v1/customers", access), 200))
                    .isLessThan(1000);
            assertThat(refresh(b, login.getString("refreshToken")).statusCode()).isEqualTo(200);
            assertThat(signIn(b, email).statusCode()).isEqualTo(200);
            assertThat(fetch(b, url).statusCode())
                    .as("a file URL from before the suspension stays dead")
                    .isEqualTo(403);
            assertThat(AdminActionsFixtures.auditOfAccount(account))
                    .containsSubsequence(
                            "admin.action_requested",
                            "admin.action_confirmed",
                            "account_suspended",
                            "admin.suspend",
                            "admin.action_requested",
                            "admin.action_confirmed",
                            "account_resumed",
                            "admin.reinstate");
        }
    }
}
