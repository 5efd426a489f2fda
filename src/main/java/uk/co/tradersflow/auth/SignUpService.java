package uk.co.tradersflow.auth;

import static uk.co.tradersflow.auth.AuthOutcomes.invalidLink;
import static uk.co.tradersflow.auth.AuthOutcomes.isCheckViolation;
import static uk.co.tradersflow.auth.AuthOutcomes.isUniqueViolation;
import static uk.co.tradersflow.auth.AuthOutcomes.usable;
import static uk.co.tradersflow.auth.AuthOutcomes.userEntry;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import uk.co.tradersflow.email.OutgoingEmail;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.FieldError;
import uk.co.tradersflow.platform.http.ClientInfo;

/**
 * Sign-up and email verification. A sign-up never tells whether its address is registered: a
 * registered one answers alike and in the same time (the password is hashed either way), and
 * its owner is told by mail instead.
 */
public final class SignUpService {
    private static final Duration VERIFY_LIFE = Duration.ofHours(24);

    /** A new account and its first user; {@code email} as {@link EmailAddress#accountEmail} checked it. */
    public record SignUp(EmailAddress email, String password, String businessName, ClientInfo.Client client) {
        @Override
        public String toString() {
            return "SignUp[]";
        }
    }

    /** The ids the sign-up was given (also answered for a registered address, which gets nothing). */
    public record SignedUp(UUID userId, UUID accountId) {}

    public record VerifyEmail(String token, ClientInfo.Client client) {
        @Override
        public String toString() {
            return "VerifyEmail[]";
        }
    }

    private final CredentialTools credentials;
    private final SignInRepository repo;
    private final Clock clock;

    /** Sign-up sets a credential like a reset does: it checks and hashes a password, mails a link and audits. */
    SignUpService(CredentialTools credentials, SignInRepository repo, Clock clock) {
        this.credentials = credentials;
        this.repo = repo;
        this.clock = clock;
    }

    public Future<SignedUp> signUp(SignUp cmd) {
        UUID accountId = UUID.randomUUID();
        UUID userId = UUID.randomUUID();
        EmailAddress email = cmd.email();
        // Hash first, whatever happens next, so a registered email answers in the same time.
        return Future.<Void>succeededFuture()
                .compose(v -> {
                    credentials.policy().requireStrong(cmd.password());
                    return credentials.hasher().hash(cmd.password());
                })
                .compose(hash -> repo.userByEmail(email)
                        .compose(existing -> existing.isPresent()
                                ? noticeExisting(existing.get(), email)
                                : createAccount(accountId, userId, email, hash, cmd.businessName(), cmd.client())
                                        .recover(e -> isUniqueViolation(e)
                                                ? repo.userByEmail(email)
                                                        .compose(again -> again.map(u -> noticeExisting(u, email))
                                                                .orElse(Future.succeededFuture()))
                                                : isCheckViolation(e)
                                                        ? Future.failedFuture(AppError.validation(List.of(
                                                                new FieldError("email", "must be an email address"))))
                                                        : Future.failedFuture(e))))
                .map(v -> new SignedUp(userId, accountId));
    }

    private Future<Void> createAccount(
            UUID accountId,
            UUID userId,
            EmailAddress email,
            String hash,
            String businessName,
            ClientInfo.Client client) {
        String token = SecretTokens.generate("");
        return credentials.db().inAccount(accountId, tx -> SignInRepository.createAccount(
                        tx, accountId, businessName, userId, email.value(), hash)
                .compose(v -> SignInRepository.insertLinkToken(
                        tx, accountId, userId, "verify_email", SecretTokens.hash(token), VERIFY_LIFE, Optional.empty()))
                // Nothing the signer typed goes into this email: anyone may sign up with anyone's address.
                .compose(v -> credentials
                        .outbox()
                        .enqueue(
                                tx,
                                OutgoingEmail.of(
                                        "verify_email",
                                        email.value(),
                                        credentials
                                                .mails()
                                                .staffNote(
                                                        email,
                                                        new JsonObject()
                                                                .put(
                                                                        "link",
                                                                        credentials
                                                                                .mails()
                                                                                .link("/verify-email", token))),
                                        "verify:" + userId,
                                        accountId)))
                .compose(v ->
                        credentials.audit().append(tx, userEntry(accountId, userId, client, "account.signed_up"))));
    }

    /** Someone signed up with a registered address: tell its owner (at most once an hour), answer as if new. */
    private Future<Void> noticeExisting(SignInRepository.UserByEmail user, EmailAddress email) {
        String hour = Long.toString(clock.instant().getEpochSecond() / 3600);
        return credentials
                .db()
                .inAccount(user.accountId(), tx -> credentials
                        .outbox()
                        .enqueue(
                                tx,
                                OutgoingEmail.of(
                                        "email_already_registered",
                                        email.value(),
                                        new JsonObject()
                                                .put(
                                                        "signInUrl",
                                                        credentials.mails().link("/sign-in", null))
                                                .put(
                                                        "resetUrl",
                                                        credentials.mails().link("/reset-password", null)),
                                        "already-registered:" + user.userId() + ":" + hour,
                                        user.accountId())))
                .mapEmpty();
    }

    /** Spends a verification link; its user's address counts as verified from then on. */
    public Future<Void> verifyEmail(VerifyEmail cmd) {
        return repo.linkToken(SecretTokens.hash(cmd.token()), "verify_email").compose(found -> {
            SignInRepository.LinkToken t = usable(found);
            return credentials.db().inAccount(t.accountId(), tx -> SignInRepository.useLinkToken(tx, t.id())
                    .compose(used -> used
                            ? SignInRepository.markVerified(tx, t.userId()).compose(v -> credentials
                                    .audit()
                                    .append(tx, userEntry(t.accountId(), t.userId(), cmd.client(), "email.verified")))
                            : Future.failedFuture(invalidLink())));
        });
    }
}
