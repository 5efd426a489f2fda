package uk.co.tradersflow.auth;

import static io.vertx.core.http.HttpMethod.DELETE;
import static io.vertx.core.http.HttpMethod.GET;
import static io.vertx.core.http.HttpMethod.POST;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.TestServer;

/** Password change, email change, account closure and export, each behind the current password. */
class AccountRoutesTest {
    static final String PASSWORD = SignInFlowTest.PASSWORD;

    @RegisterExtension
    static final ServerExtension lifecycle = ServerExtension.with(
                    Map.of("TF_SMTP_PORT", Integer.toString(TestServer.freePort())))
            .then(s -> SignInFlowTest.server = s);

    @Test
    void changingThePasswordNeedsTheCurrentOneEndsOtherSessionsAndTellsTheOwner() throws Exception {
        String email = SignInFlowTest.email();
        JsonObject here = SignInFlowTest.signedUpAndIn(email);
        JsonObject elsewhere = SignInFlowTest.login(email, PASSWORD).bodyAsJsonObject();
        String token = here.getString("accessToken");
        assertThat(SignInFlowTest.changePassword(token, "wrong guess here", "a brand new passphrase")
                        .statusCode())
                .isEqualTo(401);
        assertThat(SignInFlowTest.changePassword(token, PASSWORD, "a brand new passphrase")
                        .statusCode())
                .isEqualTo(204);
        assertThat(SignInFlowTest.awaitStatus(elsewhere.getString("accessToken"), 401))
                .isLessThan(1_000);
        assertThat(SignInFlowTest.server().send(GET, "/api/v1/me", token).statusCode())
                .as("this session goes on")
                .isEqualTo(200);
        assertThat(SignInFlowTest.queued(email, "password_changed")).isEqualTo(1);
        assertThat(SignInFlowTest.login(email, "a brand new passphrase").statusCode())
                .isEqualTo(200);
    }

    /**
     * A stolen access token is no password oracle: wrong current passwords lock that session out
     * like wrong sign-ins, but not its owner's other sessions, nor sign-in.
     */
    @Test
    void wrongCurrentPasswordsLockTheSessionOutLikeWrongSignIns() throws Exception {
        String email = SignInFlowTest.email();
        String token = SignInFlowTest.signedUpAndIn(email).getString("accessToken");
        String owners = SignInFlowTest.login(email, PASSWORD).bodyAsJsonObject().getString("accessToken");
        int max = SignInFlowTest.server().config.auth().loginMaxFailures();
        for (int i = 0; i < max; i++) {
            assertThat(SignInFlowTest.changePassword(token, "guess number " + i, "a brand new passphrase")
                            .statusCode())
                    .isEqualTo(401);
        }
        HttpResponse<Buffer> locked = SignInFlowTest.changePassword(token, PASSWORD, "a brand new passphrase");
        assertThat(locked.statusCode())
                .as("even the right password, while locked")
                .isEqualTo(429);
        assertThat(locked.getHeader("Retry-After")).isNotNull();
        assertThat(SignInFlowTest.server()
                        .send(DELETE, "/api/v1/me", token, new JsonObject().put("password", PASSWORD))
                        .statusCode())
                .isEqualTo(429);
        assertThat(SignInFlowTest.changePassword(owners, PASSWORD, "the owners new passphrase")
                        .statusCode())
                .as("the owner's own session is not locked")
                .isEqualTo(204);
    }

    /** Current passwords guessed all at once from a stolen token get no more checks than the limit. */
    @Test
    void currentPasswordsGuessedAtOnceGetNoMoreChecksThanTheLimit() throws Exception {
        String token = SignInFlowTest.signedUpAndIn(SignInFlowTest.email()).getString("accessToken");
        java.util.List<io.vertx.core.Future<HttpResponse<Buffer>>> sent = new java.util.ArrayList<>();
        for (int i = 0; i < 20; i++) {
            sent.add(SignInFlowTest.server()
                    .request(POST, "/api/v1/auth/password", token)
                    .sendJsonObject(new JsonObject()
                            .put("currentPassword", "guess number " + i)
                            .put("newPassword", "a brand new passphrase")));
        }
        TestServer.await(io.vertx.core.Future.join(sent));
        java.util.List<Integer> statuses =
                sent.stream().map(f -> f.result().statusCode()).toList();
        assertThat(statuses).as("%s", statuses).isSubsetOf(401, 429);
        assertThat(statuses.stream().filter(s -> s == 401).count())
                .as("passwords checked, %s", statuses)
                .isLessThanOrEqualTo(SignInFlowTest.server().config.auth().loginMaxFailures());
        assertThat(SignInFlowTest.changePassword(token, PASSWORD, "a brand new passphrase")
                        .statusCode())
                .as("and then the session is locked")
                .isEqualTo(429);
    }

    /** Someone guessing at sign-in locks the address, not the owner's way to change the password from a session. */
    @Test
    void aSignInLockoutDoesNotStopTheSignedInOwnerChangingThePassword() throws Exception {
        String email = SignInFlowTest.email();
        String token = SignInFlowTest.signedUpAndIn(email).getString("accessToken");
        for (int i = 0; i < SignInFlowTest.server().config.auth().loginMaxFailures(); i++) {
            SignInFlowTest.login(email, "attacker guess " + i);
        }
        assertThat(SignInFlowTest.login(email, PASSWORD).statusCode()).isEqualTo(429);
        assertThat(SignInFlowTest.changePassword(token, PASSWORD, "a brand new passphrase")
                        .statusCode())
                .isEqualTo(204);
    }

    @Test
    void anEmailChangeAppliesOnlyWhenConfirmedFromTheNewAddress() throws Exception {
        String email = SignInFlowTest.email();
        String newEmail = SignInFlowTest.email();
        String token = SignInFlowTest.signedUpAndIn(email).getString("accessToken");
        assertThat(SignInFlowTest.changeEmail(token, PASSWORD, newEmail).statusCode())
                .isEqualTo(202);
        assertThat(SignInFlowTest.queued(email, "email_change_notice")).isEqualTo(1);
        assertThat(SignInFlowTest.login(newEmail, PASSWORD).statusCode())
                .as("not yet")
                .isEqualTo(401);
        String link = SignInFlowTest.mailedToken(newEmail, "email_change_confirm");
        assertThat(SignInFlowTest.post("/api/v1/auth/email/confirm", new JsonObject().put("token", link))
                        .statusCode())
                .isEqualTo(204);
        assertThat(SignInFlowTest.login(newEmail, PASSWORD).statusCode()).isEqualTo(200);
        assertThat(SignInFlowTest.login(email, PASSWORD).statusCode()).isEqualTo(401);
    }

    /** A reset link mailed before the password changed must not set another one afterwards. */
    @Test
    void changingThePasswordSpendsEveryEmailedLinkStillOut() throws Exception {
        String email = SignInFlowTest.email();
        String token = SignInFlowTest.signedUpAndIn(email).getString("accessToken");
        String resetLink = mailedResetLink(email);
        assertThat(SignInFlowTest.changePassword(token, PASSWORD, "a brand new passphrase")
                        .statusCode())
                .isEqualTo(204);
        assertThat(SignInFlowTest.confirmReset(resetLink, "whoever read the old mail")
                        .statusCode())
                .isEqualTo(422);
        assertThat(SignInFlowTest.login(email, "a brand new passphrase").statusCode())
                .isEqualTo(200);
    }

    /** Moving the account to a new address spends the links mailed to the old one. */
    @Test
    void confirmingAnEmailChangeSpendsTheLinksMailedBefore() throws Exception {
        String email = SignInFlowTest.email();
        String newEmail = SignInFlowTest.email();
        String token = SignInFlowTest.signedUpAndIn(email).getString("accessToken");
        String resetLink = mailedResetLink(email);
        assertThat(SignInFlowTest.changeEmail(token, PASSWORD, newEmail).statusCode())
                .isEqualTo(202);
        String confirm = SignInFlowTest.mailedToken(newEmail, "email_change_confirm");
        assertThat(SignInFlowTest.post("/api/v1/auth/email/confirm", new JsonObject().put("token", confirm))
                        .statusCode())
                .isEqualTo(204);
        assertThat(SignInFlowTest.confirmReset(resetLink, "whoever has the old mailbox")
                        .statusCode())
                .isEqualTo(422);
        assertThat(SignInFlowTest.login(newEmail, PASSWORD).statusCode()).isEqualTo(200);
    }

    private static String mailedResetLink(String email) throws Exception {
        long before = SignInFlowTest.queued(email, "password_reset");
        SignInFlowTest.post("/api/v1/auth/password-reset/request", new JsonObject().put("email", email));
        SignInFlowTest.awaitQueued(email, "password_reset", before + 1);
        return SignInFlowTest.mailedToken(email, "password_reset");
    }

    @Test
    void closingTheAccountSignsEveryoneOutAndTheExportHoldsTheDataButNoSecrets() throws Exception {
        String email = SignInFlowTest.email();
        String token = SignInFlowTest.signedUpAndIn(email).getString("accessToken");
        String customer = SignInFlowTest.server()
                .send(POST, "/api/v1/customers", token, new JsonObject().put("name", "Mrs Export"))
                .bodyAsJsonObject()
                .getString("id");
        SignInFlowTest.server()
                .send(
                        POST,
                        "/api/v1/invoices",
                        token,
                        new JsonObject()
                                .put("customerId", customer)
                                .put(
                                        "lines",
                                        new io.vertx.core.json.JsonArray()
                                                .add(new JsonObject()
                                                        .put("description", "Boiler service")
                                                        .put("quantity", 1)
                                                        .put("unitPence", 9000))));
        byte[] pdf = "%PDF-1.7\nthe signed quote\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        assertThat(TestServer.await(SignInFlowTest.server()
                                .request(POST, "/api/v1/documents", token)
                                .putHeader("Content-Type", uk.co.tradersflow.support.Multipart.CONTENT_TYPE)
                                .sendBuffer(new uk.co.tradersflow.support.Multipart()
                                        .file("file", "quote.pdf", "application/pdf", pdf)
                                        .build()))
                        .statusCode())
                .isEqualTo(201);
        HttpResponse<Buffer> export = SignInFlowTest.server().send(GET, "/api/v1/me/export", token);
        assertThat(export.statusCode()).isEqualTo(200);
        JsonObject doc = export.bodyAsJsonObject();
        assertThat(doc.getJsonArray("customers").getJsonObject(0).getString("name"))
                .isEqualTo("Mrs Export");
        assertThat(doc.getJsonArray("invoices").getJsonObject(0).getLong("total_pence"))
                .isEqualTo(9000);
        assertThat(doc.getJsonArray("invoices").getJsonObject(0).fieldNames())
                .as("the API's renderings are not exported")
                .doesNotContain("lines_json", "body_json");
        assertThat(doc.getJsonArray("invoiceLines").getJsonObject(0).getString("description"))
                .isEqualTo("Boiler service");
        assertThat(doc.getJsonArray("users").getJsonObject(0).getString("email"))
                .isEqualTo(email);
        assertThat(doc.getJsonArray("documents").getJsonObject(0).getString("filename"))
                .isEqualTo("quote.pdf");
        assertThat(doc.fieldNames())
                .contains("billing", "paymentLinks", "emailEvents", "sessions", "emails", "activity");
        assertThat(export.bodyAsString())
                .doesNotContain("argon2")
                .doesNotContain("token_hash")
                .doesNotContain("wrapped_key")
                .doesNotContain("blob_name");

        assertThat(SignInFlowTest.server()
                        .send(DELETE, "/api/v1/me", token, new JsonObject().put("password", "not my password"))
                        .statusCode())
                .isEqualTo(401);
        HttpResponse<Buffer> closed =
                SignInFlowTest.server().send(DELETE, "/api/v1/me", token, new JsonObject().put("password", PASSWORD));
        assertThat(closed.statusCode()).isEqualTo(202);
        assertThat(closed.bodyAsJsonObject().getString("deleteAfter")).isNotBlank();
        assertThat(SignInFlowTest.awaitStatus(token, 401)).isLessThan(1_000);
        assertThat(SignInFlowTest.login(email, PASSWORD).statusCode()).isEqualTo(401);
        assertThat(SignInFlowTest.queued(email, "account_closed")).isEqualTo(1);
    }
}
