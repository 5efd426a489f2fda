package uk.co.tradersflow.auth;

import static io.vertx.core.http.HttpMethod.GET;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.platform.http.ClientInfo;
import uk.co.tradersflow.platform.security.Principal;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.TestServer;

/**
 * The admin area, jobs and OAuth sign-in call auth's services directly: what they do there is
 * what the API does, sessions they open are honoured by the API, and they are refused in the
 * API's own terms.
 */
class AuthServicesWithoutHttpTest {
    private static final ClientInfo.Client ADMIN_TOOL = new ClientInfo.Client("203.0.113.7", "admin-tool");

    @RegisterExtension
    static final ServerExtension lifecycle = ServerExtension.with(
                    Map.of("TF_SMTP_PORT", Integer.toString(TestServer.freePort())))
            .then(s -> SignInFlowTest.server = s);

    private static AuthServices auth() {
        return SignInFlowTest.server.main.auth();
    }

    @Test
    void aSessionOpenedThroughTheServiceIsHonouredAndEndedLikeOneOpenedOverHttp() throws Exception {
        String email = SignInFlowTest.email();
        JsonObject overHttp = SignInFlowTest.signedUpAndIn(email);

        SessionTokens tokens = TestServer.await(auth().signIn()
                .signIn(new SignInService.SignIn(
                        EmailAddress.of(" " + email.toUpperCase() + "\u00A0"),
                        SignInFlowTest.PASSWORD,
                        Optional.empty(),
                        ADMIN_TOOL)));
        JsonObject me = SignInFlowTest.server
                .send(GET, "/api/v1/me", tokens.accessToken())
                .bodyAsJsonObject();
        assertThat(me.getJsonObject("user").getString("email")).isEqualTo(email);
        assertThat(tokens.deviceToken()).isPresent();

        Principal principal = new Principal(
                UUID.fromString(me.getJsonObject("user").getString("id")),
                UUID.fromString(me.getJsonObject("account").getString("id")),
                tokens.sessionId(),
                email,
                true,
                Optional.empty());
        TestServer.await(auth().session().signOutEverywhere(principal, ADMIN_TOOL));
        assertThat(SignInFlowTest.awaitStatus(tokens.accessToken(), 401)).isLessThan(1_000);
        assertThat(SignInFlowTest.awaitStatus(overHttp.getString("accessToken"), 401))
                .isLessThan(1_000);
    }

    @Test
    void aServiceRefusesInTheApisOwnTerms() throws Exception {
        String email = SignInFlowTest.email();
        SignInFlowTest.signedUpAndIn(email);

        Throwable wrong = catchThrowable(() -> TestServer.await(auth().signIn()
                .signIn(new SignInService.SignIn(
                        EmailAddress.of(email), "not the password at all", Optional.empty(), ADMIN_TOOL))));
        assertThat(wrong).isInstanceOf(AppError.class);
        assertThat(((AppError) wrong).code()).isEqualTo(ErrorCode.INVALID_CREDENTIALS);

        Throwable weak = catchThrowable(() -> TestServer.await(auth().signUp()
                .signUp(new SignUpService.SignUp(
                        EmailAddress.of(SignInFlowTest.email()), "short", "Sparks Ltd", ADMIN_TOOL))));
        assertThat(weak).isInstanceOf(AppError.class);
        assertThat(((AppError) weak).code()).isEqualTo(ErrorCode.WEAK_PASSWORD);
    }
}
