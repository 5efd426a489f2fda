package uk.co.tradersflow.auth;

import static uk.co.tradersflow.auth.AuthOutcomes.invalidCredentials;
import static uk.co.tradersflow.auth.AuthOutcomes.userEntry;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Optional;
import java.util.UUID;
import uk.co.tradersflow.audit.ActorType;
import uk.co.tradersflow.audit.AuditEntry;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.email.EmailOutbox;
import uk.co.tradersflow.email.OutgoingEmail;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.platform.bus.SessionRevoked;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.http.ClientInfo;
import uk.co.tradersflow.platform.metrics.SecurityEvents;
import uk.co.tradersflow.ratelimit.LoginThrottle;

/**
 * Sign-in with lockout, the rotating refresh, and sign-out (this session or all of the user's).
 * A wrong email costs a real Argon2 check like a wrong password, and is counted and audited
 * like one, so neither the answer nor its timing tells whether an address is registered.
 */
public final class SignInService {
  public record SignIn(EmailAddress email, String password, Optional<String> deviceToken, ClientInfo.Client client) {}

  public record Refresh(String refreshToken, ClientInfo.Client client) {}

  /** A session's token pair; {@code deviceToken} (sign-in only) lets this device skip the next lockout and alert. */
  public record Tokens(UUID sessionId, String accessToken, String refreshToken, Duration accessTtl, Optional<String> deviceToken) {
    public JsonObject toJson() {
      JsonObject json = new JsonObject().put("accessToken", accessToken).put("refreshToken", refreshToken).put("tokenType", "Bearer")
          .put("expiresIn", accessTtl.toSeconds());
      deviceToken.ifPresent(t -> json.put("deviceToken", t));
      return json;
    }
  }

  private final Db db;
  private final SignInRepository repo;
  private final PasswordHasher hasher;
  private final SessionIssuer sessions;
  private final LoginThrottle throttle;
  private final AuthLimits limits;
  private final AuthMails mails;
  private final DeviceTokens devices;
  private final SealedTokens sealed;
  private final EmailOutbox outbox;
  private final AuditLog audit;
  private final SessionRevocations revocations;
  private final Duration reuseGrace;
  private final Clock clock;

  SignInService(Db db, SignInRepository repo, PasswordHasher hasher, SessionIssuer sessions, LoginThrottle throttle, AuthLimits limits,
                AuthMails mails, DeviceTokens devices, SealedTokens sealed, EmailOutbox outbox, AuditLog audit,
                SessionRevocations revocations, Duration reuseGrace, Clock clock) {
    this.db = db;
    this.repo = repo;
    this.hasher = hasher;
    this.sessions = sessions;
    this.throttle = throttle;
    this.limits = limits;
    this.mails = mails;
    this.devices = devices;
    this.sealed = sealed;
    this.outbox = outbox;
    this.audit = audit;
    this.revocations = revocations;
    this.reuseGrace = reuseGrace;
    this.clock = clock;
  }

  // ------------------------------------------------------------------------------------ sign-in

  public Future<Tokens> signIn(SignIn cmd) {
    EmailAddress email = cmd.email();
    ClientInfo.Client client = cmd.client();
    return limits.ipAllowed("login", client.ip())
        .compose(v -> repo.userByEmail(email))
        .compose(user -> {
          Optional<UUID> device = user.flatMap(u -> cmd.deviceToken().flatMap(t -> devices.deviceOf(t, u.userId(), u.passwordEpoch())));
          LoginThrottle.Subject counted = user.map(u -> LoginThrottle.Subject.user(u.userId()))
              .orElseGet(() -> LoginThrottle.Subject.unknownAddress(email.value()));
          LoginThrottle.Subject subject = device.map(counted::onDevice).orElse(counted);
          return throttle.admitted(subject).compose(admission -> hasher
              .verify(cmd.password(), user.flatMap(SignInRepository.UserByEmail::passwordHash))
              .transform(checked -> checked.succeeded() && !checked.result()
                  ? failedSignIn(user, email, subject, device.isPresent(), client)
                  // A sign-in clears the count itself; a right password refused for another
                  // reason (unverified, suspended), or an error, gives the admission back.
                  : (checked.succeeded() ? signedIn(user.orElseThrow(), email, cmd.password(), device, subject, client)
                      : Future.<Tokens>failedFuture(checked.cause()))
                      .recover(e -> throttle.settled(subject, Future.<Tokens>failedFuture(e)))));
        });
  }

  private Future<Tokens> failedSignIn(Optional<SignInRepository.UserByEmail> user, EmailAddress email, LoginThrottle.Subject subject,
                                      boolean knownDevice, ClientInfo.Client client) {
    SecurityEvents.record(SecurityEvents.Event.LOGIN_FAILED);
    return throttle.wrongPassword(subject).compose(failure -> {
      if (user.isEmpty()) {
        // Recorded too (no account to file it under), which also makes an unknown address
        // cost the same database work as a known one: the answer's timing tells nothing.
        AuditEntry unknown = new AuditEntry(Optional.empty(), ActorType.USER, Optional.empty(), Optional.empty(), "login.failed",
            Optional.empty(), Optional.empty(), Optional.of(client.ip()), Optional.of(client.userAgent()),
            new JsonObject().put("emailSha256", HexFormat.of().formatHex(SecretTokens.hash(email.value())).substring(0, 16))
                .put("knownUser", false));
        return db.asWorker(tx -> audit.append(tx, unknown))
            .compose(v -> Future.failedFuture(invalidCredentials()));
      }
      SignInRepository.UserByEmail u = user.get();
      boolean lockout = failure.lockedNow() && !knownDevice;
      Instant until = clock.instant().plusSeconds(failure.lockedForSeconds());
      return db.inAccount(u.accountId(), tx -> audit.append(tx, userEntry(u.accountId(), u.userId(), client, "login.failed"))
              .compose(v -> !lockout ? Future.succeededFuture() : audit.append(tx,
                      userEntry(u.accountId(), u.userId(), client, "login.locked").detail("seconds", failure.lockedForSeconds()))
                  .compose(x -> outbox.enqueue(tx, OutgoingEmail.of("account_locked", email.value(), new JsonObject()
                      .put("until", until.toString()).put("resetUrl", mails.link("/reset-password", null)),
                      "locked:" + u.userId() + ":" + failure.lockout() + ":" + until.getEpochSecond() / 3600, u.accountId())))))
          .compose(v -> Future.failedFuture(invalidCredentials()));
    });
  }

  /** A sign-in from a device we have not seen for this user also mails a sign-in alert. */
  private Future<Tokens> signedIn(SignInRepository.UserByEmail user, EmailAddress email, String password, Optional<UUID> device,
                                  LoginThrottle.Subject subject, ClientInfo.Client client) {
    if (!user.emailVerified()) {
      return Future.failedFuture(AppError.of(ErrorCode.EMAIL_NOT_VERIFIED, "Confirm your email address before signing in"));
    }
    if ("suspended".equals(user.accountStatus())) {
      return Future.failedFuture(AppError.of(ErrorCode.ACCOUNT_SUSPENDED, "This account is suspended"));
    }
    if (!"active".equals(user.accountStatus())) {
      return Future.failedFuture(invalidCredentials());
    }
    UUID deviceId = device.orElseGet(UUID::randomUUID);
    Future<Optional<String>> rehash = hasher.needsRehash(user.passwordHash().orElse(""))
        ? hasher.hash(password).map(Optional::of) : Future.succeededFuture(Optional.empty());
    return throttle.signedIn(subject)
        .compose(v -> rehash)
        .compose(newHash -> db.inAccount(user.accountId(), tx -> SignInRepository.passwordStillIs(tx, user.userId(), user.passwordEpoch())
            .compose(same -> same ? sessions.open(tx, user.accountId(), user.userId(), client.userAgent(), client.ip(), Optional.empty())
                // Changed or reset while this sign-in was being checked: the old password opens nothing.
                : Future.failedFuture(invalidCredentials()))
            .compose(issued -> (newHash.isPresent() ? SignInRepository.rehashPassword(tx, user.userId(), user.passwordEpoch(), newHash.get()) : Future.<Void>succeededFuture())
                .compose(x -> audit.append(tx, userEntry(user.accountId(), user.userId(), client, "login.succeeded")
                    .detail("sessionId", issued.sessionId().toString()).detail("knownDevice", device.isPresent())))
                .compose(x -> device.isPresent() ? Future.succeededFuture() : outbox.enqueue(tx, OutgoingEmail.of("signin_alert",
                    email.value(), new JsonObject().put("ip", client.ip()).put("userAgent", client.userAgent()).put("at", clock.instant().toString()),
                    "signin-alert:" + issued.sessionId(), user.accountId())))
                .map(issued)))
            .map(issued -> tokens(issued, Optional.of(devices.issue(user.userId(), deviceId, user.passwordEpoch())))));
  }

  // ------------------------------------------------------------------------------------ refresh

  /** Rotates a refresh token: its successor and a fresh access token, or the family ended if it was stolen. */
  public Future<Tokens> refresh(Refresh cmd) {
    byte[] hash = SecretTokens.hash(cmd.refreshToken());
    return repo.refreshToken(hash).compose(found -> {
      if (found.isEmpty() || !found.get().sessionLive() || found.get().expiresAt().isBefore(clock.instant())) {
        return Future.failedFuture(AppError.of(ErrorCode.INVALID_TOKEN, "The refresh token is invalid or expired; sign in again"));
      }
      SignInRepository.RefreshRow row = found.get();
      return row.spentAt().isPresent() ? reuse(row, cmd.client()) : rotate(row, hash, cmd.client());
    });
  }

  private Future<Tokens> rotate(SignInRepository.RefreshRow row, byte[] hash, ClientInfo.Client client) {
    String successor = SecretTokens.generate(SessionIssuer.REFRESH_PREFIX);
    Future<Boolean> won = db.inAccount(row.accountId(), tx -> SignInRepository.insertRefreshToken(tx, row.accountId(), row.sessionId(),
            SecretTokens.hash(successor), sessions.refreshTtl())
        .compose(successorId -> SignInRepository.spendRefreshToken(tx, row.id(), successorId, sealed.seal(successor, row.id().toString())))
        .compose(spent -> spent ? SignInRepository.touchSession(tx, row.sessionId()).map(true)
            // Lost the race: roll this attempt back and answer with the winner's successor.
            : Future.failedFuture(new LostRace())))
        .recover(e -> e instanceof LostRace ? Future.succeededFuture(false) : Future.failedFuture(e));
    return won.compose(ok -> ok ? Future.succeededFuture(pair(row, successor))
        : repo.refreshToken(hash).compose(again -> reuse(again.orElseThrow(), client)));
  }

  /** A spent token: within the grace period it answers its successor again; after it, the family is revoked. */
  private Future<Tokens> reuse(SignInRepository.RefreshRow row, ClientInfo.Client client) {
    boolean inGrace = row.spentAt().orElseThrow().plus(reuseGrace).isAfter(clock.instant());
    if (inGrace && row.successorSealed().isPresent()) {
      return Future.succeededFuture(pair(row, sealed.open(row.successorSealed().get(), row.id().toString())));
    }
    SecurityEvents.record(SecurityEvents.Event.REFRESH_REUSE);
    return db.inAccount(row.accountId(), tx -> SignInRepository.revokeSession(tx, row.sessionId(), "refresh_token_reuse")
            .compose(v -> audit.append(tx, userEntry(row.accountId(), row.userId(), client, "auth.refresh_reuse")
                .detail("sessionId", row.sessionId().toString()))))
        .compose(v -> revocations.publish(SessionRevoked.session(row.sessionId())))
        .compose(v -> Future.failedFuture(AppError.of(ErrorCode.INVALID_TOKEN,
            "This refresh token was already used; the session has been ended for safety")));
  }

  private Tokens pair(SignInRepository.RefreshRow row, String refreshToken) {
    return tokens(new SessionIssuer.Issued(row.sessionId(), sessions.accessFor(row.userId(), row.accountId(), row.sessionId(),
        row.impersonatorId()), refreshToken), Optional.empty());
  }

  private Tokens tokens(SessionIssuer.Issued issued, Optional<String> deviceToken) {
    return new Tokens(issued.sessionId(), issued.accessToken(), issued.refreshToken(), sessions.accessTtl(), deviceToken);
  }

  private static final class LostRace extends RuntimeException {
    LostRace() {
      super(null, null, false, false);
    }
  }

  // ------------------------------------------------------------------------------------ sign-out

  /** Ends the caller's own session. */
  public Future<Void> signOut(Principal me, ClientInfo.Client client) {
    return db.inAccount(me.accountId(), tx -> SignInRepository.revokeSession(tx, me.sessionId(), "logout")
            .compose(v -> audit.append(tx, AuditEntry.byUser(me, client, "logout").detail("sessionId", me.sessionId().toString()))))
        .compose(v -> revocations.publish(SessionRevoked.session(me.sessionId())));
  }

  /** Ends every session of the caller, and the signed file URLs handed out under them. */
  public Future<Void> signOutEverywhere(Principal me, ClientInfo.Client client) {
    return db.inAccount(me.accountId(), tx -> SignInRepository.revokeUserSessions(tx, me.userId(), Optional.empty(), "logout_all")
            .compose(n -> SignInRepository.bumpFileUrlEpoch(tx, me.accountId())
                .compose(v -> audit.append(tx, AuditEntry.byUser(me, client, "logout_all").detail("sessions", n)))))
        .compose(v -> revocations.publish(SessionRevoked.user(me.userId())));
  }
}
