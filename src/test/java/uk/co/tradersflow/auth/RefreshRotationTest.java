package uk.co.tradersflow.auth;

import static io.vertx.core.http.HttpMethod.GET;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.platform.crypto.ServerKeys;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.Sql;
import uk.co.tradersflow.support.TestServer;

/**
 * A refresh moves its session's generation (sql/V049): the just-spent token answers the same
 * successor within the grace period, any other spent one ends the family, and the tokens issued
 * before the session kept its generation rotate once into the new form.
 */
class RefreshRotationTest {
    @RegisterExtension
    static final ServerExtension lifecycle = ServerExtension.with(Map.of(
                    "TF_SMTP_PORT",
                    Integer.toString(TestServer.freePort()),
                    "TF_LOGIN_IP_LIMIT_PER_MINUTE",
                    "1000",
                    "TF_REFRESH_REUSE_GRACE_SECONDS",
                    "10"))
            .then(s -> SignInFlowTest.server = s);

    private static HttpResponse<Buffer> refresh(String token) {
        return SignInFlowTest.post("/api/v1/auth/refresh", new JsonObject().put("refreshToken", token));
    }

    private static RefreshTokens serversTokens() {
        return new RefreshTokens(
                ServerKeys.resolve(SignInFlowTest.server().config).urlSigningKey());
    }

    private static UUID sessionOf(String token) {
        return serversTokens().read(token).orElseThrow().sessionId();
    }

    private static long generationIn(String token) {
        return serversTokens().read(token).orElseThrow().generation();
    }

    private static long generationOf(UUID session) {
        return Long.parseLong(
                Sql.admin().string("SELECT refresh_generation::text FROM sessions WHERE id = ?", session));
    }

    private static String revokedReason(UUID session) {
        return Sql.admin().string("SELECT coalesce(revoked_reason, 'live') FROM sessions WHERE id = ?", session);
    }

    @Test
    void eachRefreshMovesItsSessionOneGenerationAndWritesNoTokenRow() throws Exception {
        String first = SignInFlowTest.signedUpAndIn(SignInFlowTest.email()).getString("refreshToken");
        UUID session = sessionOf(first);
        assertThat(generationIn(first)).isZero();

        String second = refresh(first).bodyAsJsonObject().getString("refreshToken");
        HttpResponse<Buffer> third = refresh(second);

        assertThat(third.statusCode()).as(third.bodyAsString()).isEqualTo(200);
        assertThat(sessionOf(third.bodyAsJsonObject().getString("refreshToken")))
                .isEqualTo(session);
        assertThat(generationIn(third.bodyAsJsonObject().getString("refreshToken")))
                .isEqualTo(2);
        assertThat(generationOf(session)).isEqualTo(2);
        assertThat(Sql.admin().count("SELECT count(*) FROM refresh_tokens WHERE session_id = ?", session))
                .isZero();
        assertThat(SignInFlowTest.server()
                        .send(GET, "/api/v1/me", third.bodyAsJsonObject().getString("accessToken"))
                        .statusCode())
                .isEqualTo(200);
    }

    /**
     * Within the grace period a spent token answers its own successor, also when the racing client
     * has since refreshed once more; a token three spends back is a replay, even a second after.
     */
    @Test
    void withinTheGraceTheLastTwoSpentAnswerTheirSuccessorsAndAnEarlierOneEndsTheFamily() throws Exception {
        String first = SignInFlowTest.signedUpAndIn(SignInFlowTest.email()).getString("refreshToken");
        UUID session = sessionOf(first);
        String second = refresh(first).bodyAsJsonObject().getString("refreshToken");
        String third = refresh(second).bodyAsJsonObject().getString("refreshToken");
        JsonObject fourth = refresh(third).bodyAsJsonObject();

        assertThat(refresh(third).bodyAsJsonObject().getString("refreshToken"))
                .as("the just-spent one")
                .isEqualTo(fourth.getString("refreshToken"));
        assertThat(refresh(second).bodyAsJsonObject().getString("refreshToken"))
                .as("the one spent before it: its own successor")
                .isEqualTo(third);
        assertThat(generationOf(session)).as("a retry moves nothing").isEqualTo(3);
        assertThat(refresh(first).statusCode()).isEqualTo(401);
        assertThat(revokedReason(session)).isEqualTo("refresh_token_reuse");
        assertThat(refresh(fourth.getString("refreshToken")).statusCode()).isEqualTo(401);
        assertThat(SignInFlowTest.awaitStatus(fourth.getString("accessToken"), 401))
                .isLessThan(1_000);
    }

    /** Each spend has its own grace period: the token two back, spent a minute ago, is a replay. */
    @Test
    void theTokenTwoBackAfterItsOwnGraceEndsTheFamily() throws Exception {
        String first = SignInFlowTest.signedUpAndIn(SignInFlowTest.email()).getString("refreshToken");
        UUID session = sessionOf(first);
        String second = refresh(first).bodyAsJsonObject().getString("refreshToken");
        refresh(second);
        Sql.admin()
                .update(
                        "UPDATE sessions SET previously_refreshed_at = now() - interval '1 minute' WHERE id = ?",
                        session);

        assertThat(refresh(first).statusCode()).isEqualTo(401);
        assertThat(revokedReason(session)).isEqualTo("refresh_token_reuse");
    }

    /** A genuine token of a generation the session never reached (a database restored from before it) is no replay. */
    @Test
    void aGenerationTheSessionNeverReachedIsRefusedWithoutEndingIt() throws Exception {
        String genuine = SignInFlowTest.signedUpAndIn(SignInFlowTest.email()).getString("refreshToken");
        UUID session = sessionOf(genuine);
        byte[] secret = serversTokens().read(genuine).orElseThrow().secret();

        HttpResponse<Buffer> ahead = refresh(serversTokens().mint(session, 5, secret));

        assertThat(ahead.statusCode()).isEqualTo(401);
        assertThat(ahead.bodyAsJsonObject().getString("code")).isEqualTo("invalid_token");
        assertThat(revokedReason(session)).isEqualTo("live");
        assertThat(generationOf(session)).isZero();
        assertThat(refresh(genuine).statusCode()).isEqualTo(200);
    }

    /**
     * Nobody makes a token without both the server's key and a token of the session: not with
     * another key, and not with the server's key (a leaked one) and the session's id alone (access
     * tokens carry it).
     */
    @Test
    void aTokenWithoutTheKeyOrWithoutTheSessionsSecretIsRefusedAndLeavesTheSessionAlone() throws Exception {
        String genuine = SignInFlowTest.signedUpAndIn(SignInFlowTest.email()).getString("refreshToken");
        UUID session = sessionOf(genuine);
        byte[] secret = serversTokens().read(genuine).orElseThrow().secret();
        byte[] otherKey = new byte[32];
        otherKey[0] = 7;

        List<String> forged = new java.util.ArrayList<>();
        for (long generation : new long[] {0, 1, 5}) {
            forged.add(new RefreshTokens(otherKey).mint(session, generation, secret));
            forged.add(serversTokens().mint(session, generation, RefreshTokens.newSecret()));
        }
        for (String token : forged) {
            HttpResponse<Buffer> answer = refresh(token);
            assertThat(answer.statusCode()).isEqualTo(401);
            assertThat(answer.bodyAsJsonObject().getString("code")).isEqualTo("invalid_token");
        }

        assertThat(revokedReason(session)).isEqualTo("live");
        assertThat(generationOf(session)).isZero();
        assertThat(refresh(genuine).statusCode()).isEqualTo(200);
    }

    @Test
    void anExpiredSessionRefreshesNothing() throws Exception {
        String token = SignInFlowTest.signedUpAndIn(SignInFlowTest.email()).getString("refreshToken");
        UUID session = sessionOf(token);
        Sql.admin().update("UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = ?", session);

        assertThat(refresh(token).statusCode()).isEqualTo(401);
        assertThat(generationOf(session)).isZero();
        assertThat(revokedReason(session)).as("expiry is not reuse").isEqualTo("live");
    }

    // ------------------------------------------------------------------- tokens issued before V049

    /** A token of the first form for {@code session}, as the release before V049 issued it. */
    private static String issuedBefore(UUID session) throws Exception {
        String token = SecretTokens.generate("tfr_");
        Sql.admin()
                .update(
                        "INSERT INTO refresh_tokens (account_id, session_id, token_hash, expires_at) "
                                + "SELECT account_id, id, ?, expires_at FROM sessions WHERE id = ?",
                        SecretTokens.hash(token),
                        session);
        return token;
    }

    @Test
    void aTokenIssuedBeforeRotatesOnceIntoTheSessionsFirstGeneration() throws Exception {
        UUID session =
                sessionOf(SignInFlowTest.signedUpAndIn(SignInFlowTest.email()).getString("refreshToken"));
        String old = issuedBefore(session);

        HttpResponse<Buffer> moved = refresh(old);
        assertThat(moved.statusCode()).as(moved.bodyAsString()).isEqualTo(200);
        String successor = moved.bodyAsJsonObject().getString("refreshToken");
        assertThat(sessionOf(successor)).isEqualTo(session);
        assertThat(generationIn(successor)).isZero();
        assertThat(Sql.admin()
                        .count(
                                "SELECT count(*) FROM refresh_tokens WHERE token_hash = ? OR token_hash = ?",
                                SecretTokens.hash(successor),
                                RefreshTokens.secretHash(serversTokens()
                                        .read(successor)
                                        .orElseThrow()
                                        .secret())))
                .as("no row a token of the new form finds, here or on an instance of the previous release")
                .isZero();
        assertThat(refresh(old).bodyAsJsonObject().getString("refreshToken"))
                .as("a retry within the grace")
                .isEqualTo(successor);

        HttpResponse<Buffer> next = refresh(successor);
        assertThat(next.statusCode()).isEqualTo(200);
        assertThat(generationOf(session)).isEqualTo(1);

        Sql.admin()
                .update(
                        "UPDATE refresh_tokens SET spent_at = now() - interval '1 minute' WHERE token_hash = ?",
                        SecretTokens.hash(old));
        assertThat(refresh(old).statusCode()).as("a replay after the grace").isEqualTo(401);
        assertThat(revokedReason(session)).isEqualTo("refresh_token_reuse");
        assertThat(refresh(next.bodyAsJsonObject().getString("refreshToken")).statusCode())
                .isEqualTo(401);
    }

    /**
     * Until V044 a successor was sealed under its spent row's id; since, under the spent token's hash.
     * A retry, within the grace period after the upgrade, of a refresh the previous release answered
     * still gets that successor.
     */
    @Test
    void aRetryWithinGraceGetsTheSuccessorThePreviousReleaseSealedUnderTheRowId() throws Exception {
        UUID session =
                sessionOf(SignInFlowTest.signedUpAndIn(SignInFlowTest.email()).getString("refreshToken"));
        String old = issuedBefore(session);
        assertThat(refresh(old).statusCode()).isEqualTo(200);
        byte[] oldHash = SecretTokens.hash(old);
        String rowId = Sql.admin().string("SELECT id::text FROM refresh_tokens WHERE token_hash = ?", oldHash);
        String previousReleasesSuccessor = SecretTokens.generate("tfr_");
        byte[] sealedUnderRowId = new SealedTokens(
                        ServerKeys.resolve(SignInFlowTest.server().config).dataKey())
                .seal(previousReleasesSuccessor, rowId.getBytes(StandardCharsets.UTF_8));
        Sql.admin()
                .update(
                        "UPDATE refresh_tokens SET successor_sealed = ? WHERE token_hash = ?",
                        sealedUnderRowId,
                        oldHash);

        HttpResponse<Buffer> retry = refresh(old);

        assertThat(retry.statusCode()).as(retry.bodyAsString()).isEqualTo(200);
        assertThat(retry.bodyAsJsonObject().getString("refreshToken")).isEqualTo(previousReleasesSuccessor);
    }

    @Test
    void anUnknownTokenOfTheFirstFormIsRefused() {
        HttpResponse<Buffer> unknown = refresh(SecretTokens.generate("tfr_"));

        assertThat(unknown.statusCode()).isEqualTo(401);
        assertThat(unknown.bodyAsJsonObject().getString("code")).isEqualTo("invalid_token");
    }
}
