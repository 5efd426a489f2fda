package uk.co.tradersflow.auth;

import static io.vertx.core.http.HttpMethod.GET;
import static io.vertx.core.http.HttpMethod.POST;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.support.Multipart;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;

/**
 * Every way a user's sessions end also ends the signed file URLs handed out before: whoever
 * held the session (or the password) may hold the URLs too. Sign-out everywhere is covered in
 * {@code SignedFileDownloadTest}; here the password change, the password reset and suspension.
 */
class SignedUrlsEndWithSessionsTest {
    static final String PASSWORD = SignInFlowTest.PASSWORD;
    static final String NEW_PASSWORD = "a brand new passphrase";

    @RegisterExtension
    static final ServerExtension lifecycle = ServerExtension.with(
                    Map.of("TF_SMTP_PORT", Integer.toString(TestServer.freePort())))
            .then(s -> SignInFlowTest.server = s);

    /** Uploads a small PDF as the token's user and answers a signed URL for it. */
    static String signedUrlOfNewDocument(String accessToken) {
        byte[] pdf = "%PDF-1.7\nquote for the kitchen rewire\n".getBytes(StandardCharsets.ISO_8859_1);
        HttpResponse<Buffer> uploaded = TestServer.await(SignInFlowTest.server()
                .request(POST, "/api/v1/documents", accessToken)
                .putHeader("Content-Type", Multipart.CONTENT_TYPE)
                .sendBuffer(new Multipart()
                        .file("file", "quote.pdf", "application/pdf", pdf)
                        .build()));
        assertThat(uploaded.statusCode()).as(uploaded.bodyAsString()).isEqualTo(201);
        HttpResponse<Buffer> url = SignInFlowTest.server()
                .send(GET, "/api/v1/documents/" + uploaded.bodyAsJsonObject().getString("id") + "/url", accessToken);
        assertThat(url.statusCode()).as(url.bodyAsString()).isEqualTo(200);
        return url.bodyAsJsonObject().getString("url");
    }

    /** Fetches a signed URL with no Authorization header; answers the status. */
    static int fetch(String url) {
        URI uri = URI.create(url);
        return TestServer.await(SignInFlowTest.server()
                        .request(GET, uri.getRawPath() + "?" + uri.getRawQuery())
                        .send())
                .statusCode();
    }

    @Test
    void changingThePasswordEndsEverySignedUrlHandedOutBefore() throws Exception {
        String token = SignInFlowTest.signedUpAndIn(SignInFlowTest.email()).getString("accessToken");
        String url = signedUrlOfNewDocument(token);
        assertThat(fetch(url)).isEqualTo(200);
        assertThat(SignInFlowTest.changePassword(token, PASSWORD, NEW_PASSWORD).statusCode())
                .isEqualTo(204);
        assertThat(fetch(url)).as("a URL from before the change").isEqualTo(403);
        assertThat(fetch(signedUrlOfNewDocument(token)))
                .as("a URL minted after it")
                .isEqualTo(200);
    }

    @Test
    void resettingThePasswordEndsEverySignedUrlHandedOutBefore() throws Exception {
        String email = SignInFlowTest.email();
        String token = SignInFlowTest.signedUpAndIn(email).getString("accessToken");
        String url = signedUrlOfNewDocument(token);
        assertThat(fetch(url)).isEqualTo(200);
        assertThat(SignInFlowTest.post("/api/v1/auth/password-reset/request", new JsonObject().put("email", email))
                        .statusCode())
                .isEqualTo(202);
        SignInFlowTest.awaitQueued(email, "password_reset", 1);
        assertThat(SignInFlowTest.post(
                                "/api/v1/auth/password-reset/confirm",
                                new JsonObject()
                                        .put("token", SignInFlowTest.mailedToken(email, "password_reset"))
                                        .put("newPassword", NEW_PASSWORD))
                        .statusCode())
                .isEqualTo(204);
        assertThat(fetch(url)).as("a URL from before the reset").isEqualTo(403);
        String fresh =
                SignInFlowTest.login(email, NEW_PASSWORD).bodyAsJsonObject().getString("accessToken");
        assertThat(fetch(signedUrlOfNewDocument(fresh)))
                .as("a URL minted after signing in again")
                .isEqualTo(200);
    }

    @Test
    void suspendingTheAccountEndsItsSignedUrlsForGoodEvenOnceReinstated() {
        TestUsers users = new TestUsers(SignInFlowTest.server());
        TestUsers.TestUser user = users.create();
        String url = signedUrlOfNewDocument(user.token());
        assertThat(fetch(url)).isEqualTo(200);
        users.setAccountStatus(user.accountId(), "suspended");
        assertThat(fetch(url)).isEqualTo(403);
        users.setAccountStatus(user.accountId(), "active");
        assertThat(fetch(url))
                .as("reinstating does not revive a URL from before the suspension")
                .isEqualTo(403);
        assertThat(fetch(signedUrlOfNewDocument(user.token())))
                .as("a URL minted after reinstatement")
                .isEqualTo(200);
    }
}
