package uk.co.tradersflow.auth;

import static uk.co.tradersflow.auth.AuthOutcomes.invalidCredentials;
import static uk.co.tradersflow.auth.AuthOutcomes.userEntry;

import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Function;
import uk.co.tradersflow.audit.AuditEntry;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.email.EmailOutbox;
import uk.co.tradersflow.email.OutgoingEmail;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.db.Tx;
import uk.co.tradersflow.platform.http.ClientInfo;
import uk.co.tradersflow.platform.metrics.SecurityEvents;
import uk.co.tradersflow.platform.security.ActorType;
import uk.co.tradersflow.ratelimit.LoginThrottle;

/**
 * Sign-in with a password, under the lockout; the session it opens lives on in
 * {@link SessionService}.
 * A wrong email costs a real Argon2 check like a wrong password, and is counted and audited
 * like one, so neither the answer nor its timing tells whether an address is registered.
 *
 * <p>Every other way of signing in (Google, Apple: {@code auth.oauth}) goes through the same
 * steps here: {@link #attempt}, {@link #admitted}, then {@link #refused}, {@link #open} or
 * {@link #settled}, so the lockout, the audit entries, the alerts and the session are the
 * password's, whatever the credential.
 */
public final class SignInService {
    public record SignIn(EmailAddress email, String password, Optional<String> deviceToken, ClientInfo.Client client) {
        @Override
        public String toString() {
            return "SignIn[]";
        }
    }

    private final Db db;
    private final SignInRepository repo;
    private final PasswordHasher hasher;
    private final SessionIssuer sessions;
    private final LoginThrottle throttle;
    private final AuthMails mails;
    private final DeviceTokens devices;
    private final EmailOutbox outbox;
    private final AuditLog audit;
    private final Clock clock;

    SignInService(
            Db db,
            SignInRepository repo,
            PasswordHasher hasher,
            SessionIssuer sessions,
            LoginThrottle throttle,
            AuthMails mails,
            DeviceTokens devices,
            EmailOutbox outbox,
            AuditLog audit,
            Clock clock) {
        this.db = db;
        this.repo = repo;
        this.hasher = hasher;
        this.sessions = sessions;
        this.throttle = throttle;
        this.mails = mails;
        this.devices = devices;
        this.outbox = outbox;
        this.audit = audit;
        this.clock = clock;
    }

    // ------------------------------------------------------------------------------------ sign-in

    public Future<SessionTokens> signIn(SignIn cmd) {
        EmailAddress email = cmd.email();
        ClientInfo.Client client = cmd.client();
        return repo.userByEmail(email).compose(found -> {
            Optional<SignInUser> user = found.map(u -> SignInUser.of(u, email));
            Attempt attempt = attempt(
                    user,
                    LoginThrottle.Subject.unknownAddress(email.value()),
                    cmd.deviceToken(),
                    client,
                    new JsonObject()
                            .put(
                                    "emailSha256",
                                    HexFormat.of()
                                            .formatHex(SecretTokens.hash(email.value()))
                                            .substring(0, 16)));
            return admitted(attempt).compose(admission -> hasher.verify(
                            cmd.password(), found.flatMap(SignInRepository.UserByEmail::passwordHash))
                    .transform(checked -> checked.succeeded() && !checked.result()
                            ? refused(attempt, invalidCredentials(), new JsonObject())
                            // A sign-in clears the count itself; a right password refused for another
                            // reason (unverified, suspended), or an error, gives the admission back.
                            : (checked.succeeded()
                                            ? passwordAccepted(
                                                    attempt,
                                                    user.orElseThrow(),
                                                    found.orElseThrow()
                                                            .passwordHash()
                                                            .orElse(""),
                                                    cmd.password())
                                            : Future.<SessionTokens>failedFuture(checked.cause()))
                                    .recover(e -> settled(attempt, Future.<SessionTokens>failedFuture(e)))));
        });
    }

    /**
     * The right password: rehashed if its parameters are old (hashed before the transaction opens,
     * so no connection waits on Argon2), and stored in the transaction that opens the session.
     */
    private Future<SessionTokens> passwordAccepted(
            Attempt attempt, SignInUser user, String storedHash, String password) {
        return mayOpen(user)
                .compose(ok -> hasher.needsRehash(storedHash)
                        ? hasher.hash(password).map(Optional::of)
                        : Future.succeededFuture(Optional.<String>empty()))
                .compose(newHash -> open(attempt, user, new JsonObject(), tx -> SignInRepository.passwordStillIs(
                                tx, user.userId(), user.passwordEpoch())
                        .compose(same -> !same
                                // Changed or reset while this sign-in was being checked: the old
                                // password opens nothing.
                                ? Future.failedFuture(invalidCredentials())
                                : newHash.isPresent()
                                        ? SignInRepository.rehashPassword(
                                                tx, user.userId(), user.passwordEpoch(), newHash.get())
                                        : Future.<Void>succeededFuture())));
    }

    // ------------------------------------------------ what every way of signing in shares

    /**
     * The user a sign-in is for, as its credential's lookup found them ({@code email} is theirs:
     * the lockout mail goes there).
     */
    public record SignInUser(
            UUID userId,
            UUID accountId,
            EmailAddress email,
            int passwordEpoch,
            boolean emailVerified,
            String accountStatus) {
        static SignInUser of(SignInRepository.UserByEmail u, EmailAddress email) {
            return new SignInUser(
                    u.userId(), u.accountId(), email, u.passwordEpoch(), u.emailVerified(), u.accountStatus());
        }
    }

    /**
     * One sign-in attempt, before its credential is checked: whom it claims to be (if anyone we
     * know), the lockout count it is judged by, the known device it presented, where it comes from,
     * and what names it in the audit when it names no user.
     */
    public record Attempt(
            Optional<SignInUser> user,
            LoginThrottle.Subject subject,
            Optional<UUID> device,
            ClientInfo.Client client,
            JsonObject unknownDetails) {
        @Override
        public String toString() {
            return "Attempt[user=" + user.map(SignInUser::userId) + "]";
        }
    }

    /**
     * An attempt on {@code user}'s behalf, counted under the user (the one count per user, whatever
     * the credential), or under {@code unknown} when it names nobody; a valid device token of that
     * user counts apart, so a guesser elsewhere cannot lock this device out.
     */
    public Attempt attempt(
            Optional<SignInUser> user,
            LoginThrottle.Subject unknown,
            Optional<String> deviceToken,
            ClientInfo.Client client,
            JsonObject unknownDetails) {
        Optional<UUID> device =
                user.flatMap(u -> deviceToken.flatMap(t -> devices.deviceOf(t, u.userId(), u.passwordEpoch())));
        LoginThrottle.Subject counted =
                user.map(u -> LoginThrottle.Subject.user(u.userId())).orElse(unknown);
        return new Attempt(user, device.map(counted::onDevice).orElse(counted), device, client, unknownDetails);
    }

    /** Admits the attempt's credential check: 429 while its subject is locked, 503 without Redis. */
    public Future<Void> admitted(Attempt attempt) {
        return throttle.admitted(attempt.subject());
    }

    /**
     * Settles an admitted attempt that ended neither signed in nor refused (another answer, an
     * error): it gives its admission back, and {@code outcome} stands.
     */
    public <T> Future<T> settled(Attempt attempt, AsyncResult<T> outcome) {
        return throttle.settled(attempt.subject(), outcome);
    }

    /**
     * The attempt's credential was wrong: counted (which may lock its subject: then the user is
     * mailed), audited as {@code login.failed} (with {@code details}), and answered with
     * {@code answer}.
     */
    public <T> Future<T> refused(Attempt attempt, AppError answer, JsonObject details) {
        SecurityEvents.record(SecurityEvents.Event.LOGIN_FAILED);
        ClientInfo.Client client = attempt.client();
        return throttle.wrongPassword(attempt.subject()).compose(failure -> {
            if (attempt.user().isEmpty()) {
                // Recorded too (no account to file it under), which also makes an unknown address
                // cost the same database work as a known one: the answer's timing tells nothing.
                AuditEntry unknown = new AuditEntry(
                        Optional.empty(),
                        ActorType.USER,
                        Optional.empty(),
                        Optional.empty(),
                        "login.failed",
                        Optional.empty(),
                        Optional.empty(),
                        Optional.of(client.ip()),
                        Optional.of(client.userAgent()),
                        attempt.unknownDetails().copy().mergeIn(details).put("knownUser", false));
                return db.asWorker(tx -> audit.append(tx, unknown)).compose(v -> Future.failedFuture(answer));
            }
            SignInUser u = attempt.user().get();
            boolean lockout = failure.lockedNow() && attempt.device().isEmpty();
            Instant until = clock.instant().plusSeconds(failure.lockedForSeconds());
            AuditEntry entry = withDetails(userEntry(u.accountId(), u.userId(), client, "login.failed"), details);
            return db.inAccount(u.accountId(), tx -> audit.append(tx, entry)
                            .compose(v -> !lockout
                                    ? Future.succeededFuture()
                                    : audit.append(
                                                    tx,
                                                    userEntry(u.accountId(), u.userId(), client, "login.locked")
                                                            .detail("seconds", failure.lockedForSeconds()))
                                            .compose(x -> outbox.enqueue(
                                                    tx,
                                                    OutgoingEmail.of(
                                                            "account_locked",
                                                            u.email().value(),
                                                            new JsonObject()
                                                                    .put("until", until.toString())
                                                                    .put(
                                                                            "resetUrl",
                                                                            mails.link("/reset-password", null)),
                                                            "locked:" + u.userId() + ":" + failure.lockout() + ":"
                                                                    + until.getEpochSecond() / 3600,
                                                            u.accountId())))))
                    .compose(v -> Future.failedFuture(answer));
        });
    }

    /**
     * Whether {@code user} may be signed in at all, whatever the credential: 403 while the address
     * is unverified or the account suspended; a closed account signs in to nothing.
     */
    public Future<Void> mayOpen(SignInUser user) {
        if (!user.emailVerified()) {
            return Future.failedFuture(
                    AppError.of(ErrorCode.EMAIL_NOT_VERIFIED, "Confirm your email address before signing in"));
        }
        if ("suspended".equals(user.accountStatus())) {
            return Future.failedFuture(AppError.of(ErrorCode.ACCOUNT_SUSPENDED, "This account is suspended"));
        }
        if (!"active".equals(user.accountStatus())) {
            return Future.failedFuture(invalidCredentials());
        }
        return Future.succeededFuture();
    }

    /**
     * The attempt's credential proved it is {@code user}: its count is cleared, and one
     * transaction of the user's account runs {@code first} (what must still hold, or be written,
     * for this sign-in: the password unchanged; an identity linked) and opens the session, audited
     * as {@code login.succeeded} (with {@code details}). A sign-in from a device we have not seen
     * for this user also mails a sign-in alert. Answers the login body, with a device token.
     */
    public Future<SessionTokens> open(
            Attempt attempt, SignInUser user, JsonObject details, Function<Tx, Future<Void>> first) {
        ClientInfo.Client client = attempt.client();
        Optional<UUID> device = attempt.device();
        UUID deviceId = device.orElseGet(UUID::randomUUID);
        return mayOpen(user)
                .compose(ok -> throttle.signedIn(attempt.subject()))
                .compose(v -> db.inAccount(user.accountId(), tx -> first.apply(tx)
                        .compose(x -> sessions.open(
                                tx, user.accountId(), user.userId(), client.userAgent(), client.ip(), Optional.empty()))
                        .compose(issued -> {
                            AuditEntry succeeded = withDetails(
                                    userEntry(user.accountId(), user.userId(), client, "login.succeeded")
                                            .detail(
                                                    "sessionId",
                                                    issued.sessionId().toString())
                                            .detail("knownDevice", device.isPresent()),
                                    details);
                            return audit.append(tx, succeeded)
                                    .compose(x -> device.isPresent()
                                            ? Future.succeededFuture()
                                            : outbox.enqueue(
                                                    tx,
                                                    OutgoingEmail.of(
                                                            "signin_alert",
                                                            user.email().value(),
                                                            new JsonObject()
                                                                    .put("ip", client.ip())
                                                                    .put("userAgent", client.userAgent())
                                                                    .put(
                                                                            "at",
                                                                            clock.instant()
                                                                                    .toString()),
                                                            "signin-alert:" + issued.sessionId(),
                                                            user.accountId())))
                                    .map(issued);
                        })))
                .map(issued -> SessionTokens.of(
                        issued,
                        sessions.accessTtl(),
                        Optional.of(devices.issue(user.userId(), deviceId, user.passwordEpoch()))));
    }

    /** {@code entry} with the way-of-signing-in's own details added (the method, a refusal's reason). */
    private static AuditEntry withDetails(AuditEntry entry, JsonObject details) {
        AuditEntry with = entry;
        for (String key : details.fieldNames()) {
            with = with.detail(key, details.getValue(key));
        }
        return with;
    }
}
