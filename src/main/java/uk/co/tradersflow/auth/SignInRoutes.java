package uk.co.tradersflow.auth;

import static io.vertx.core.http.HttpMethod.POST;

import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.pgclient.PgException;
import java.text.Normalizer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.co.tradersflow.platform.security.ActorType;
import uk.co.tradersflow.audit.AuditEntry;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.config.AppConfig;
import uk.co.tradersflow.email.EmailOutbox;
import uk.co.tradersflow.email.OutgoingEmail;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.error.FieldError;
import uk.co.tradersflow.platform.bus.SessionRevoked;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.http.Api;
import uk.co.tradersflow.platform.http.ClientInfo;
import uk.co.tradersflow.platform.http.JsonInput;
import uk.co.tradersflow.platform.http.RouteModule;
import uk.co.tradersflow.platform.security.Principal;
import uk.co.tradersflow.ratelimit.LoginThrottle;
import uk.co.tradersflow.ratelimit.RateLimiter;

/**
 * {@code /api/v1/auth}: sign-up, email verification, sign-in with lockout, rotating refresh,
 * sign-out (here or everywhere) and password reset. Answers never tell whether an email is
 * registered: sign-up and reset requests answer alike, and a wrong email costs a real Argon2
 * check like a wrong password.
 */
public final class SignInRoutes implements RouteModule {
  private static final Logger log = LoggerFactory.getLogger(SignInRoutes.class);
  private static final Duration VERIFY_LIFE = Duration.ofHours(24);
  private static final Duration RESET_LIFE = Duration.ofHours(1);
  /** Reset mails to one address in any hour, whoever asks from wherever (the contract's cap). */
  static final int RESET_MAILS_PER_HOUR = 3;

  private final AppConfig config;
  private final Db db;
  private final SignInRepository repo;
  private final PasswordHasher hasher;
  private final PasswordPolicy policy;
  private final SessionIssuer sessions;
  private final LoginThrottle throttle;
  private final RateLimiter limiter;
  private final DeviceTokens devices;
  private final SealedTokens sealed;
  private final EmailOutbox outbox;
  private final AuditLog audit;
  private final SessionRevocations revocations;
  private final Clock clock;
  private ClientInfo clients;

  public SignInRoutes(AppConfig config, Db db, PasswordHasher hasher, PasswordPolicy policy, AccessTokens accessTokens,
                      LoginThrottle throttle, RateLimiter limiter, byte[] deviceKey, byte[] dataKey, EmailOutbox outbox,
                      AuditLog audit, SessionRevocations revocations, Clock clock) {
    this.config = config;
    this.db = db;
    this.repo = new SignInRepository(db);
    this.hasher = hasher;
    this.policy = policy;
    this.sessions = new SessionIssuer(accessTokens, config.refreshTokenTtl());
    this.throttle = throttle;
    this.limiter = limiter;
    this.devices = new DeviceTokens(deviceKey, clock);
    this.sealed = new SealedTokens(dataKey);
    this.outbox = outbox;
    this.audit = audit;
    this.revocations = revocations;
    this.clock = clock;
  }

  @Override
  public void mount(Router router, Api api) {
    this.clients = api.clients();
    api.open(router, POST, "/api/v1/auth/signup").handler(this::signup);
    api.open(router, POST, "/api/v1/auth/verify-email").handler(this::verifyEmail);
    api.open(router, POST, "/api/v1/auth/login").handler(this::login);
    api.open(router, POST, "/api/v1/auth/refresh").handler(this::refresh);
    api.authenticated(router, POST, "/api/v1/auth/logout").handler(this::logout);
    api.authenticated(router, POST, "/api/v1/auth/logout-all").handler(this::logoutAll);
    api.open(router, POST, "/api/v1/auth/password-reset/request").handler(this::resetRequest);
    api.open(router, POST, "/api/v1/auth/password-reset/confirm").handler(this::resetConfirm);
  }

  /**
   * NFKC-normalised, then trimmed and lower-cased: the one form an address is stored and looked
   * up under. Normalising first matters: NFKC turns a no-break space into a plain one, which a
   * trim done before it would have kept, making {@code "a@b.c\u00A0"} a second spelling.
   */
  static String normalise(String email) {
    return Normalizer.normalize(email, Normalizer.Form.NFKC).strip().toLowerCase(Locale.ROOT);
  }

  /** An address a user signs up or moves to: normalised first, then checked, so what is stored is what was checked. */
  static String accountEmail(JsonInput in, String field) {
    String email = in.optionalText(field, 254).map(SignInRoutes::normalise).orElse(null);
    if (email == null) {
      if (!in.has(field)) {
        in.error(field, "is required");
      }
      return null;
    }
    if (!JsonInput.isEmail(email)) {
      in.error(field, "must be an email address");
    }
    return email;
  }

  /**
   * What failed sign-ins are counted under: the user, once the address names one, so no second
   * spelling of an address can start a fresh count; the address itself when it names nobody.
   */
  static String throttleSubject(Optional<SignInRepository.UserByEmail> user, String email) {
    return user.map(u -> throttleSubject(u.userId())).orElse("email:" + email);
  }

  /** The user's count; a known device or a signed-in session counts under it, apart. */
  static String throttleSubject(UUID userId) {
    return "user:" + userId;
  }

  // ------------------------------------------------------------------------------------ sign-up

  private void signup(RoutingContext ctx) {
    JsonInput in = JsonInput.of(ctx);
    String email = accountEmail(in, "email");
    String password = in.requiredText("password", 1024);
    String businessName = in.requiredText("businessName", 200);
    in.validate();
    policy.requireStrong(password);
    ClientInfo.Client client = clients.of(ctx);
    UUID accountId = UUID.randomUUID();
    UUID userId = UUID.randomUUID();
    // Hash first, whatever happens next, so a registered email answers in the same time.
    Future<JsonObject> done = ipAllowed(ctx, "signup", client.ip())
        .compose(v -> hasher.hash(password))
        .compose(hash -> repo.userByEmail(email).compose(existing -> existing.isPresent()
            ? noticeExisting(existing.get(), email)
            : createAccount(accountId, userId, email, hash, businessName, client)
                .recover(e -> isUniqueViolation(e) ? repo.userByEmail(email).compose(again -> again.map(u -> noticeExisting(u, email))
                    .orElse(Future.succeededFuture()))
                    : isCheckViolation(e) ? Future.failedFuture(AppError.validation(List.of(new FieldError("email", "must be an email address"))))
                    : Future.failedFuture(e))))
        .map(v -> new JsonObject().put("userId", userId.toString()).put("accountId", accountId.toString()));
    Api.reply(ctx, done, 201, body -> body);
  }

  private Future<Void> createAccount(UUID accountId, UUID userId, String email, String hash, String businessName,
                                     ClientInfo.Client client) {
    String token = SecretTokens.generate("");
    return db.inAccount(accountId, tx -> SignInRepository.createAccount(tx, accountId, businessName, userId, email, hash)
        .compose(v -> SignInRepository.insertLinkToken(tx, accountId, userId, "verify_email", SecretTokens.hash(token), VERIFY_LIFE, Optional.empty()))
        // Nothing the signer typed goes into this email: anyone may sign up with anyone's address.
        .compose(v -> outbox.enqueue(tx, OutgoingEmail.of("verify_email", email, staffNote(email, new JsonObject()
            .put("link", link("/verify-email", token))), "verify:" + userId, accountId)))
        .compose(v -> audit.append(tx, new AuditEntry(Optional.of(accountId), ActorType.USER, Optional.of(userId), Optional.empty(),
            "account.signed_up", Optional.of("user"), Optional.of(userId.toString()), Optional.of(client.ip()),
            Optional.of(client.userAgent()), new JsonObject()))));
  }

  /** Someone signed up with a registered address: tell its owner (at most once an hour), answer as if new. */
  private Future<Void> noticeExisting(SignInRepository.UserByEmail user, String email) {
    String hour = Long.toString(clock.instant().getEpochSecond() / 3600);
    return db.inAccount(user.accountId(), tx -> outbox.enqueue(tx, OutgoingEmail.of("email_already_registered",
            email, new JsonObject().put("signInUrl", link("/sign-in", null)).put("resetUrl", link("/reset-password", null)),
            "already-registered:" + user.userId() + ":" + hour, user.accountId())))
        .mapEmpty();
  }

  private void verifyEmail(RoutingContext ctx) {
    JsonInput in = JsonInput.of(ctx);
    String token = in.requiredText("token", 200);
    in.validate();
    ClientInfo.Client client = clients.of(ctx);
    Future<Void> done = repo.linkToken(SecretTokens.hash(token), "verify_email").compose(found -> {
      SignInRepository.LinkToken t = usable(found);
      return db.inAccount(t.accountId(), tx -> SignInRepository.useLinkToken(tx, t.id()).compose(used -> used
          ? SignInRepository.markVerified(tx, t.userId())
              .compose(v -> audit.append(tx, userEntry(t.accountId(), t.userId(), client, "email.verified")))
          : Future.failedFuture(invalidLink())));
    });
    Api.noContent(ctx, done);
  }

  // ------------------------------------------------------------------------------------ sign-in

  private void login(RoutingContext ctx) {
    JsonInput in = JsonInput.of(ctx);
    String email = normalise(in.requiredText("email", 254));
    String password = in.requiredText("password", 1024);
    Optional<String> deviceToken = in.optionalText("deviceToken", 300);
    in.validate();
    ClientInfo.Client client = clients.of(ctx);
    Future<JsonObject> done = ipAllowed(ctx, "login", client.ip())
        .compose(v -> repo.userByEmail(email))
        .compose(user -> {
          Optional<UUID> device = user.flatMap(u -> deviceToken.flatMap(t -> devices.deviceOf(t, u.userId(), u.passwordEpoch())));
          String subject = throttleSubject(user, email) + device.map(d -> "|device:" + d).orElse("");
          return admitted(throttle, subject).compose(admission -> hasher
              .verify(password, user.flatMap(SignInRepository.UserByEmail::passwordHash))
              .transform(checked -> checked.succeeded() && !checked.result()
                  ? failedSignIn(user, email, subject, device.isPresent(), client)
                  // A sign-in clears the count itself; a right password refused for another
                  // reason (unverified, suspended), or an error, gives the admission back.
                  : (checked.succeeded() ? signedIn(user.orElseThrow(), email, password, device, subject, client)
                      : Future.<JsonObject>failedFuture(checked.cause()))
                      .recover(e -> released(throttle, subject, Future.<JsonObject>failedFuture(e)))));
        });
    Api.reply(ctx, done, 200, body -> body);
  }

  private Future<JsonObject> failedSignIn(Optional<SignInRepository.UserByEmail> user, String email, String subject,
                                          boolean knownDevice, ClientInfo.Client client) {
    uk.co.tradersflow.platform.metrics.SecurityEvents.record(uk.co.tradersflow.platform.metrics.SecurityEvents.Event.LOGIN_FAILED);
    return redis(throttle.failed(subject)).compose(failure -> {
      if (user.isEmpty()) {
        // Recorded too (no account to file it under), which also makes an unknown address
        // cost the same database work as a known one: the answer's timing tells nothing.
        AuditEntry unknown = new AuditEntry(Optional.empty(), ActorType.USER, Optional.empty(), Optional.empty(), "login.failed",
            Optional.empty(), Optional.empty(), Optional.of(client.ip()), Optional.of(client.userAgent()),
            new JsonObject().put("emailSha256", java.util.HexFormat.of().formatHex(SecretTokens.hash(email)).substring(0, 16))
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
                  .compose(x -> outbox.enqueue(tx, OutgoingEmail.of("account_locked", email, new JsonObject()
                      .put("until", until.toString()).put("resetUrl", link("/reset-password", null)),
                      "locked:" + u.userId() + ":" + failure.lockout() + ":" + until.getEpochSecond() / 3600, u.accountId())))))
          .compose(v -> Future.failedFuture(invalidCredentials()));
    });
  }

  /** A sign-in from a device we have not seen for this user also mails a sign-in alert. */
  private Future<JsonObject> signedIn(SignInRepository.UserByEmail user, String email, String password, Optional<UUID> device,
                                      String subject, ClientInfo.Client client) {
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
    return redis(throttle.succeeded(subject))
        .compose(v -> rehash)
        .compose(newHash -> db.inAccount(user.accountId(), tx -> SignInRepository.passwordStillIs(tx, user.userId(), user.passwordEpoch())
            .compose(same -> same ? sessions.open(tx, user.accountId(), user.userId(), client.userAgent(), client.ip(), Optional.empty())
                // Changed or reset while this sign-in was being checked: the old password opens nothing.
                : Future.failedFuture(invalidCredentials()))
            .compose(issued -> (newHash.isPresent() ? SignInRepository.rehashPassword(tx, user.userId(), user.passwordEpoch(), newHash.get()) : Future.<Void>succeededFuture())
                .compose(x -> audit.append(tx, userEntry(user.accountId(), user.userId(), client, "login.succeeded")
                    .detail("sessionId", issued.sessionId().toString()).detail("knownDevice", device.isPresent())))
                .compose(x -> device.isPresent() ? Future.succeededFuture() : outbox.enqueue(tx, OutgoingEmail.of("signin_alert",
                    email, new JsonObject().put("ip", client.ip()).put("userAgent", client.userAgent()).put("at", clock.instant().toString()),
                    "signin-alert:" + issued.sessionId(), user.accountId())))
                .map(issued)))
            .map(issued -> issued.toJson(sessions.accessTtl()).put("deviceToken",
                devices.issue(user.userId(), deviceId, user.passwordEpoch()))));
  }

  // ------------------------------------------------------------------------------------ refresh

  private void refresh(RoutingContext ctx) {
    JsonInput in = JsonInput.of(ctx);
    String token = in.requiredText("refreshToken", 200);
    in.validate();
    ClientInfo.Client client = clients.of(ctx);
    byte[] hash = SecretTokens.hash(token);
    Future<JsonObject> done = repo.refreshToken(hash).compose(found -> {
      if (found.isEmpty() || !found.get().sessionLive() || found.get().expiresAt().isBefore(clock.instant())) {
        return Future.failedFuture(AppError.of(ErrorCode.INVALID_TOKEN, "The refresh token is invalid or expired; sign in again"));
      }
      SignInRepository.RefreshRow row = found.get();
      return row.spentAt().isPresent() ? reuse(row, client) : rotate(row, hash, client);
    });
    Api.reply(ctx, done, 200, body -> body);
  }

  private Future<JsonObject> rotate(SignInRepository.RefreshRow row, byte[] hash, ClientInfo.Client client) {
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
  private Future<JsonObject> reuse(SignInRepository.RefreshRow row, ClientInfo.Client client) {
    boolean inGrace = row.spentAt().orElseThrow().plus(config.refreshReuseGrace()).isAfter(clock.instant());
    if (inGrace && row.successorSealed().isPresent()) {
      return Future.succeededFuture(pair(row, sealed.open(row.successorSealed().get(), row.id().toString())));
    }
    uk.co.tradersflow.platform.metrics.SecurityEvents.record(uk.co.tradersflow.platform.metrics.SecurityEvents.Event.REFRESH_REUSE);
    return db.inAccount(row.accountId(), tx -> SignInRepository.revokeSession(tx, row.sessionId(), "refresh_token_reuse")
            .compose(v -> audit.append(tx, userEntry(row.accountId(), row.userId(), client, "auth.refresh_reuse")
                .detail("sessionId", row.sessionId().toString()))))
        .compose(v -> revocations.publish(SessionRevoked.session(row.sessionId())))
        .compose(v -> Future.failedFuture(AppError.of(ErrorCode.INVALID_TOKEN,
            "This refresh token was already used; the session has been ended for safety")));
  }

  private JsonObject pair(SignInRepository.RefreshRow row, String refreshToken) {
    return new SessionIssuer.Issued(row.sessionId(), sessions.accessFor(row.userId(), row.accountId(), row.sessionId(),
        row.impersonatorId()), refreshToken).toJson(sessions.accessTtl());
  }

  private static final class LostRace extends RuntimeException {
    LostRace() {
      super(null, null, false, false);
    }
  }

  // ------------------------------------------------------------------------------------ sign-out

  private void logout(RoutingContext ctx) {
    Principal me = Principal.of(ctx);
    ClientInfo.Client client = clients.of(ctx);
    Future<Void> done = db.inAccount(me.accountId(), tx -> SignInRepository.revokeSession(tx, me.sessionId(), "logout")
            .compose(v -> audit.append(tx, AuditEntry.byUser(me, client, "logout").detail("sessionId", me.sessionId().toString()))))
        .compose(v -> revocations.publish(SessionRevoked.session(me.sessionId())));
    Api.noContent(ctx, done);
  }

  private void logoutAll(RoutingContext ctx) {
    Principal me = Principal.of(ctx);
    ClientInfo.Client client = clients.of(ctx);
    Future<Void> done = db.inAccount(me.accountId(), tx -> SignInRepository.revokeUserSessions(tx, me.userId(), Optional.empty(), "logout_all")
            .compose(n -> SignInRepository.bumpFileUrlEpoch(tx, me.accountId())
                .compose(v -> audit.append(tx, AuditEntry.byUser(me, client, "logout_all").detail("sessions", n)))))
        .compose(v -> revocations.publish(SessionRevoked.user(me.userId())));
    Api.noContent(ctx, done);
  }

  // ------------------------------------------------------------------------------------ password reset

  private void resetRequest(RoutingContext ctx) {
    JsonInput in = JsonInput.of(ctx);
    String email = normalise(in.requiredText("email", 254));
    in.validate();
    ClientInfo.Client client = clients.of(ctx);
    ipAllowed(ctx, "reset", client.ip()).onComplete(ar -> {
      if (ar.failed()) {
        ctx.fail(ar.cause());
        return;
      }
      // Answer first, work after: the reply is the same, and as fast, whether or not the address is registered.
      Api.json(ctx, 202, new JsonObject().put("status", "accepted"));
      uk.co.tradersflow.platform.metrics.SecurityEvents.record(uk.co.tradersflow.platform.metrics.SecurityEvents.Event.PASSWORD_RESET_REQUESTED);
      repo.userByEmail(email).compose(user -> user.map(u -> resetMailAllowed(email)
              .compose(allowed -> allowed ? sendReset(u, email, client) : Future.<Void>succeededFuture()))
              .orElse(Future.succeededFuture()))
          .onFailure(e -> log.warn("password reset email not queued: {}", e.getMessage()));
    });
  }

  /**
   * The per-IP limit alone let 20 requests from 20 addresses send 20 mails with 20 live links:
   * the cap is per recipient, shared by every instance through Redis. Keyed by a hash, so Redis
   * holds no addresses. Without Redis nothing is sent (the request was already answered 202).
   */
  private Future<Boolean> resetMailAllowed(String email) {
    String bucket = "reset-mail:" + java.util.HexFormat.of().formatHex(SecretTokens.hash(email));
    return limiter.takeInWindow(bucket, RESET_MAILS_PER_HOUR, Duration.ofHours(1)).map(d -> {
      if (!d.allowed()) {
        log.info("password reset mail not sent: its address had {} in the last hour", RESET_MAILS_PER_HOUR);
      }
      return d.allowed();
    });
  }

  private Future<Void> sendReset(SignInRepository.UserByEmail user, String email, ClientInfo.Client client) {
    String token = SecretTokens.generate("");
    byte[] hash = SecretTokens.hash(token);
    return db.inAccount(user.accountId(), tx -> SignInRepository.insertLinkToken(tx, user.accountId(), user.userId(), "password_reset",
            hash, RESET_LIFE, Optional.empty())
        .compose(v -> outbox.enqueue(tx, OutgoingEmail.of("password_reset", email, staffNote(email, new JsonObject().put("link", link("/reset-password", token))),
            "reset:" + java.util.HexFormat.of().formatHex(hash), user.accountId())))
        .compose(v -> audit.append(tx, userEntry(user.accountId(), user.userId(), client, "password.reset_requested"))));
  }

  private void resetConfirm(RoutingContext ctx) {
    JsonInput in = JsonInput.of(ctx);
    String token = in.requiredText("token", 200);
    String password = in.requiredText("newPassword", 1024);
    in.validate();
    policy.requireStrong(password);
    ClientInfo.Client client = clients.of(ctx);
    Future<Void> done = repo.linkToken(SecretTokens.hash(token), "password_reset").compose(found -> {
      SignInRepository.LinkToken t = usable(found);
      // The link proved the mailbox is theirs: that verifies the address too (so a sign-up that
      // squatted it unverified is taken back), and every other link still out is spent.
      return hasher.hash(password).compose(hash -> db.inAccount(t.accountId(), tx -> SignInRepository.useLinkToken(tx, t.id())
              .compose(used -> used ? SignInRepository.setPassword(tx, t.userId(), hash) : Future.failedFuture(invalidLink()))
              .compose(v -> SignInRepository.markVerified(tx, t.userId()))
              // What a staff address needs before the admin area opens (admin/OwnerGuard).
              .compose(v -> SignInRepository.markPasswordSetByReset(tx, t.userId()))
              .compose(v -> SignInRepository.spendLinkTokens(tx, t.userId()))
              .compose(v -> SignInRepository.revokeUserSessions(tx, t.userId(), Optional.empty(), "password_reset"))
              .compose(n -> SignInRepository.bumpFileUrlEpoch(tx, t.accountId()).map(n))
              .compose(n -> audit.append(tx, userEntry(t.accountId(), t.userId(), client, "password.reset").detail("sessionsEnded", n)))))
          .compose(v -> revocations.publish(SessionRevoked.user(t.userId())));
    });
    Api.noContent(ctx, done);
  }

  // ------------------------------------------------------------------------------------ helpers

  /**
   * The per-client-IP limit of the open sign-in routes. The answer carries its {@code RateLimit-*}
   * headers whatever it turns out to be (the contract's rule for every rate-limited answer), so
   * a client sees its budget shrink before it meets the 429.
   */
  private Future<Void> ipAllowed(RoutingContext ctx, String action, String ip) {
    int perMinute = config.loginIpLimitPerMinute();
    return redis(limiter.take(action + "-ip:" + ClientInfo.limitKey(ip), perMinute, Duration.ofMinutes(1), perMinute)).compose(d -> {
      if (!d.allowed()) {
        return Future.failedFuture(tooMany(d.limit(), d.retryAfterSeconds(), d.resetSeconds()));
      }
      d.quota().putOn(ctx.response());
      return Future.succeededFuture();
    });
  }

  /**
   * Admits one password check for {@code subject} (see {@link LoginThrottle}), or fails with 429
   * while it is locked or while the attempts in flight already reach the limit.
   */
  static Future<Void> admitted(LoginThrottle throttle, String subject) {
    // Locked: none of the subject's attempts are left until the lock (or the attempts in flight) end.
    return redis(throttle.admit(subject)).compose(admission -> admission.admitted()
        ? Future.succeededFuture() : Future.failedFuture(tooMany(throttle.maxFailures(), admission.retryAfterSeconds(),
            admission.retryAfterSeconds())));
  }

  /**
   * Settles an admitted attempt that did not end on a wrong password (the right one, or an error
   * on the way): it gives its admission back, and {@code outcome} stands. A release that fails
   * leaves the attempt counted, which errs on the side of the lockout.
   */
  static <T> Future<T> released(LoginThrottle throttle, String subject, AsyncResult<T> outcome) {
    return throttle.release(subject).otherwiseEmpty()
        .transform(ignored -> outcome.succeeded() ? Future.succeededFuture(outcome.result()) : Future.failedFuture(outcome.cause()));
  }

  /** Sign-in fails closed without Redis: no counters means unlimited guessing, so answer 503 instead. */
  static <T> Future<T> redis(Future<T> call) {
    return call.recover(e -> Future.failedFuture(AppError.of(ErrorCode.SERVICE_UNAVAILABLE,
        "Sign-in is temporarily unavailable; try again shortly")));
  }

  static AppError tooMany(int limit, long retryAfterSeconds, long resetSeconds) {
    uk.co.tradersflow.platform.metrics.SecurityEvents.record(uk.co.tradersflow.platform.metrics.SecurityEvents.Event.RATE_LIMITED);
    return AppError.rateLimited(ErrorCode.TOO_MANY_ATTEMPTS, "Too many sign-in attempts; try again later", limit,
        retryAfterSeconds, resetSeconds);
  }

  private static AppError invalidCredentials() {
    return AppError.of(ErrorCode.INVALID_CREDENTIALS, "The email or password is not right");
  }

  private static AppError invalidLink() {
    return AppError.validation(List.of(new FieldError("token", "is invalid, used or expired")));
  }

  private static SignInRepository.LinkToken usable(Optional<SignInRepository.LinkToken> found) {
    if (found.isEmpty() || !found.get().usable()) {
      throw invalidLink();
    }
    return found.get();
  }

  /**
   * Verification and reset mails to a staff address tell its owner the admin area's rule: only a
   * password set through a reset link opens it, so confirming a sign-up they did not make hands
   * nobody the admin area, and a reset is how they take the address back.
   */
  private JsonObject staffNote(String email, JsonObject model) {
    return config.isStaffEmail(email) ? model.put("staff", true) : model;
  }

  /** Links in emails lead to the web app (TF_APP_URL), which posts the token back to the API. */
  private String link(String path, String token) {
    return config.appLink(token == null ? path : path + "?token=" + token);
  }

  private static AuditEntry userEntry(UUID accountId, UUID userId, ClientInfo.Client client, String action) {
    return new AuditEntry(Optional.of(accountId), ActorType.USER, Optional.of(userId), Optional.empty(), action,
        Optional.of("user"), Optional.of(userId.toString()), Optional.of(client.ip()), Optional.of(client.userAgent()), new JsonObject());
  }

  private static boolean isUniqueViolation(Throwable e) {
    return e instanceof PgException pg && "23505".equals(pg.getSqlState());
  }

  /** The users table's own check (lower-case, trimmed) refused an address Java's rules let through. */
  private static boolean isCheckViolation(Throwable e) {
    return e instanceof PgException pg && "23514".equals(pg.getSqlState());
  }
}
