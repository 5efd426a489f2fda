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
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.email.EmailOutbox;
import uk.co.tradersflow.email.OutgoingEmail;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.FieldError;
import uk.co.tradersflow.platform.db.Db;
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

    private final Db db;
    private final SignInRepository repo;
    private final PasswordHasher hasher;
    private final PasswordPolicy policy;
    private final AuthMails mails;
    private final EmailOutbox outbox;
    private final AuditLog audit;
    private final Clock clock;

    SignUpService(
            Db db,
            SignInRepository repo,
            PasswordHasher hasher,
            PasswordPolicy policy,
            AuthMails mails,
            EmailOutbox outbox,
            AuditLog audit,
            Clock clock) {
        this.db = db;
        this.repo = repo;
        this.hasher = hasher;
        this.policy = policy;
        this.mails = mails;
        this.outbox = outbox;
        this.audit = audit;
        this.clock = clock;
    }

    public Future<SignedUp> signUp(SignUp cmd) {
        UUID accountId = UUID.randomUUID();
        UUID userId = UUID.randomUUID();
        EmailAddress email = cmd.email();
        // Hash first, whatever happens next, so a registered email answers in the same time.
        return Future.<Void>succeededFuture()
                .compose(v -> {
                    policy.requireStrong(cmd.password());
                    return hasher.hash(cmd.password());
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
        return db.inAccount(accountId, tx -> SignInRepository.createAccount(
                        tx, accountId, businessName, userId, email.value(), hash)
                .compose(v -> SignInRepository.insertLinkToken(
                        tx, accountId, userId, "verify_email", SecretTokens.hash(token), VERIFY_LIFE, Optional.empty()))
                // Nothing the signer typed goes into this email: anyone may sign up with anyone's address.
                .compose(v -> outbox.enqueue(
                        tx,
                        OutgoingEmail.of(
                                "verify_email",
                                email.value(),
                                mails.staffNote(
                                        email, new JsonObject().put("link", mails.link("/verify-email", token))),
                                "verify:" + userId,
                                accountId)))
                .compose(v -> audit.append(tx, userEntry(accountId, userId, client, "account.signed_up"))));
    }

    /** Someone signed up with a registered address: tell its owner (at most once an hour), answer as if new. */
    private Future<Void> noticeExisting(SignInRepository.UserByEmail user, EmailAddress email) {
        String hour = Long.toString(clock.instant().getEpochSecond() / 3600);
        return db.inAccount(
                        user.accountId(),
                        tx -> outbox.enqueue(
                                tx,
                                OutgoingEmail.of(
                                        "email_already_registered",
                                        email.value(),
                                        new JsonObject()
                                                .put("signInUrl", mails.link("/sign-in", null))
                                                .put("resetUrl", mails.link("/reset-password", null)),
                                        "already-registered:" + user.userId() + ":" + hour,
                                        user.accountId())))
                .mapEmpty();
    }

    /** Spends a verification link; its user's address counts as verified from then on. */
    public Future<Void> verifyEmail(VerifyEmail cmd) {
        return repo.linkToken(SecretTokens.hash(cmd.token()), "verify_email").compose(found -> {
            SignInRepository.LinkToken t = usable(found);
            return db.inAccount(t.accountId(), tx -> SignInRepository.useLinkToken(tx, t.id())
                    .compose(used -> used
                            ? SignInRepository.markVerified(tx, t.userId())
                                    .compose(v -> audit.append(
                                            tx, userEntry(t.accountId(), t.userId(), cmd.client(), "email.verified")))
                            : Future.failedFuture(invalidLink())));
        });
    }
}
