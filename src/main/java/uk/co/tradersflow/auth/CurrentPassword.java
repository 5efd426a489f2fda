package uk.co.tradersflow.auth;

import io.vertx.core.Future;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.platform.security.Principal;
import uk.co.tradersflow.ratelimit.LoginThrottle;

/**
 * The current password an account change is confirmed with. A wrong one is a 401 like a wrong
 * sign-in and is counted with the same limits, so a stolen access token is no password oracle
 * (429 while locked). The count is the session's own: someone locking the account by guessing
 * at sign-in must not stop its owner, signed in elsewhere, from changing the password.
 */
final class CurrentPassword {
    private final AccountRepository repo;
    private final PasswordHasher hasher;
    private final LoginThrottle throttle;

    CurrentPassword(AccountRepository repo, PasswordHasher hasher, LoginThrottle throttle) {
        this.repo = repo;
        this.hasher = hasher;
        this.throttle = throttle;
    }

    /** The user's address and hash once {@code password} is confirmed to be theirs. */
    Future<AccountRepository.UserSecrets> confirmed(Principal p, String password) {
        LoginThrottle.Subject subject = LoginThrottle.Subject.user(p.userId()).inSession(p.sessionId());
        return throttle.admitted(subject).compose(admission -> repo.userSecrets(p.accountId(), p.userId())
                .transform(found -> found.failed()
                        ? throttle.settled(subject, found)
                        : hasher.verify(password, found.result().passwordHash())
                                .transform(checked -> checked.succeeded() && !checked.result()
                                        ? throttle.wrongPassword(subject)
                                                .compose(failure ->
                                                        Future.<AccountRepository.UserSecrets>failedFuture(AppError.of(
                                                                ErrorCode.INVALID_CREDENTIALS,
                                                                "The current password is not right")))
                                        : throttle.settled(subject, checked).map(found.result()))));
    }
}
