package uk.co.tradersflow.auth;

import static uk.co.tradersflow.auth.AuthOutcomes.invalidCredentials;
import static uk.co.tradersflow.auth.AuthOutcomes.userEntry;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Optional;
import java.util.UUID;
import uk.co.tradersflow.audit.AuditEntry;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.email.EmailOutbox;
import uk.co.tradersflow.email.OutgoingEmail;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.http.ClientInfo;
import uk.co.tradersflow.platform.metrics.SecurityEvents;
import uk.co.tradersflow.platform.security.ActorType;
import uk.co.tradersflow.ratelimit.LoginThrottle;

/**
 * Sign-in with a password, under the lockout; the session it opens lives on in
 * {@link SessionService}.
 * A wrong email costs a real Argon2 check like a wrong password, and is counted and audited
 * like one, so neither the answer nor its timing tells whether an address is registered.
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
        return repo.userByEmail(email).compose(user -> {
            Optional<UUID> device = user.flatMap(
                    u -> cmd.deviceToken().flatMap(t -> devices.deviceOf(t, u.userId(), u.passwordEpoch())));
            LoginThrottle.Subject counted = user.map(u -> LoginThrottle.Subject.user(u.userId()))
                    .orElseGet(() -> LoginThrottle.Subject.unknownAddress(email.value()));
            LoginThrottle.Subject subject = device.map(counted::onDevice).orElse(counted);
            return throttle.admitted(subject).compose(admission -> hasher.verify(
                            cmd.password(), user.flatMap(SignInRepository.UserByEmail::passwordHash))
                    .transform(checked -> checked.succeeded() && !checked.result()
                            ? failedSignIn(user, email, subject, device.isPresent(), client)
                            // A sign-in clears the count itself; a right password refused for another
                            // reason (unverified, suspended), or an error, gives the admission back.
                            : (checked.succeeded()
                                            ? signedIn(
                                                    user.orElseThrow(), email, cmd.password(), device, subject, client)
                                            : Future.<SessionTokens>failedFuture(checked.cause()))
                                    .recover(e -> throttle.settled(subject, Future.<SessionTokens>failedFuture(e)))));
        });
    }

    private Future<SessionTokens> failedSignIn(
            Optional<SignInRepository.UserByEmail> user,
            EmailAddress email,
            LoginThrottle.Subject subject,
            boolean knownDevice,
            ClientInfo.Client client) {
        SecurityEvents.record(SecurityEvents.Event.LOGIN_FAILED);
        return throttle.wrongPassword(subject).compose(failure -> {
            if (user.isEmpty()) {
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
                        new JsonObject()
                                .put(
                                        "emailSha256",
                                        HexFormat.of()
                                                .formatHex(SecretTokens.hash(email.value()))
                                                .substring(0, 16))
                                .put("knownUser", false));
                return db.asWorker(tx -> audit.append(tx, unknown))
                        .compose(v -> Future.failedFuture(invalidCredentials()));
            }
            SignInRepository.UserByEmail u = user.get();
            boolean lockout = failure.lockedNow() && !knownDevice;
            Instant until = clock.instant().plusSeconds(failure.lockedForSeconds());
            return db.inAccount(u.accountId(), tx -> audit.append(
                                    tx, userEntry(u.accountId(), u.userId(), client, "login.failed"))
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
                                                            email.value(),
                                                            new JsonObject()
                                                                    .put("until", until.toString())
                                                                    .put(
                                                                            "resetUrl",
                                                                            mails.link("/reset-password", null)),
                                                            "locked:" + u.userId() + ":" + failure.lockout() + ":"
                                                                    + until.getEpochSecond() / 3600,
                                                            u.accountId())))))
                    .compose(v -> Future.failedFuture(invalidCredentials()));
        });
    }

    /** A sign-in from a device we have not seen for this user also mails a sign-in alert. */
    private Future<SessionTokens> signedIn(
            SignInRepository.UserByEmail user,
            EmailAddress email,
            String password,
            Optional<UUID> device,
            LoginThrottle.Subject subject,
            ClientInfo.Client client) {
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
        UUID deviceId = device.orElseGet(UUID::randomUUID);
        Future<Optional<String>> rehash = hasher.needsRehash(user.passwordHash().orElse(""))
                ? hasher.hash(password).map(Optional::of)
                : Future.succeededFuture(Optional.empty());
        return throttle.signedIn(subject).compose(v -> rehash).compose(newHash -> db.inAccount(
                        user.accountId(),
                        tx -> SignInRepository.passwordStillIs(tx, user.userId(), user.passwordEpoch())
                                .compose(same -> same
                                        ? sessions.open(
                                                tx,
                                                user.accountId(),
                                                user.userId(),
                                                client.userAgent(),
                                                client.ip(),
                                                Optional.empty())
                                        // Changed or reset while this sign-in was being checked: the old password opens
                                        // nothing.
                                        : Future.failedFuture(invalidCredentials()))
                                .compose(issued -> (newHash.isPresent()
                                                ? SignInRepository.rehashPassword(
                                                        tx, user.userId(), user.passwordEpoch(), newHash.get())
                                                : Future.<Void>succeededFuture())
                                        .compose(x -> audit.append(
                                                tx,
                                                userEntry(user.accountId(), user.userId(), client, "login.succeeded")
                                                        .detail(
                                                                "sessionId",
                                                                issued.sessionId()
                                                                        .toString())
                                                        .detail("knownDevice", device.isPresent())))
                                        .compose(x -> device.isPresent()
                                                ? Future.succeededFuture()
                                                : outbox.enqueue(
                                                        tx,
                                                        OutgoingEmail.of(
                                                                "signin_alert",
                                                                email.value(),
                                                                new JsonObject()
                                                                        .put("ip", client.ip())
                                                                        .put("userAgent", client.userAgent())
                                                                        .put(
                                                                                "at",
                                                                                clock.instant()
                                                                                        .toString()),
                                                                "signin-alert:" + issued.sessionId(),
                                                                user.accountId())))
                                        .map(issued)))
                .map(issued -> SessionTokens.of(
                        issued,
                        sessions.accessTtl(),
                        Optional.of(devices.issue(user.userId(), deviceId, user.passwordEpoch())))));
    }
}
