package uk.co.tradersflow.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import uk.co.tradersflow.platform.http.ClientInfo;
import uk.co.tradersflow.platform.security.Principal;

/**
 * Commands carry passwords and tokens; a record's own toString would print them wherever a
 * command ends up in a log line or an exception message. None of them may.
 */
class CommandsKeepSecretsOutOfTextTest {
    private static final String SECRET = "s3cret-Passw0rd-or-token";

    @Test
    void noCommandOrTokenPairPrintsItsSecrets() {
        ClientInfo.Client client = new ClientInfo.Client("203.0.113.9", "ua");
        Principal who = new Principal(
                UUID.randomUUID(), UUID.randomUUID(), UUID.randomUUID(), "sam@example.test", true, Optional.empty());
        EmailAddress email = EmailAddress.of("sam@example.test");
        List<Object> carriers = List.of(
                new SignUpService.SignUp(email, SECRET, "Sparks", client),
                new SignUpService.VerifyEmail(SECRET, client),
                new SignInService.SignIn(email, SECRET, Optional.of(SECRET), client),
                new SessionService.Refresh(SECRET, client),
                new PasswordResetService.ConfirmReset(SECRET, SECRET, client),
                new AccountService.ChangePassword(who, SECRET, SECRET, client),
                new AccountService.RequestEmailChange(who, SECRET, email, client),
                new AccountService.ConfirmEmailChange(SECRET, client),
                new MeService.CloseAccount(who, SECRET, client),
                new SessionTokens(UUID.randomUUID(), SECRET, SECRET, Duration.ofMinutes(15), Optional.of(SECRET)));
        for (Object carrier : carriers) {
            assertThat(carrier.toString())
                    .as(carrier.getClass().getSimpleName())
                    .doesNotContain(SECRET);
        }
    }
}
