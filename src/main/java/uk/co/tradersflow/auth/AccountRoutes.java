package uk.co.tradersflow.auth;

import static io.vertx.core.http.HttpMethod.DELETE;
import static io.vertx.core.http.HttpMethod.GET;
import static io.vertx.core.http.HttpMethod.POST;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
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
import uk.co.tradersflow.platform.http.JsonInput;
import uk.co.tradersflow.platform.http.RouteModule;
import uk.co.tradersflow.platform.security.Principal;
import uk.co.tradersflow.ratelimit.LoginThrottle;
import uk.co.tradersflow.ratelimit.RateLimiter;

/**
 * The signed-in user's own account changes, each confirmed with the current password: change
 * password (other sessions end), change email (confirmed from the new address, the old one
 * told), close the account (everything signed out at once, data deleted after 30 days), and
 * export everything the account holds.
 */
public final class AccountRoutes implements RouteModule {
  private static final Duration EMAIL_CHANGE_LIFE = Duration.ofHours(24);
  private static final Duration RETENTION = Duration.ofDays(30);
  /** Email-change requests per user in any hour: each mails a confirmation to an address of the user's choosing. */
  static final int EMAIL_CHANGES_PER_HOUR = 3;

  private final AppConfig config;
  private final Db db;
  private final SignInRepository repo;
  private final PasswordHasher hasher;
  private final PasswordPolicy policy;
  private final EmailOutbox outbox;
  private final AuditLog audit;
  private final SessionRevocations revocations;
  private final LoginThrottle throttle;
  private final RateLimiter limiter;
  private final Runnable accountClosed;
  private Api api;

  /** {@code accountClosed} runs after a closure commits: it wakes the retention job, which cancels the Stripe subscription. */
  public AccountRoutes(AppConfig config, Db db, PasswordHasher hasher, PasswordPolicy policy, EmailOutbox outbox, AuditLog audit,
                       SessionRevocations revocations, LoginThrottle throttle, RateLimiter limiter, Runnable accountClosed) {
    this.config = config;
    this.db = db;
    this.repo = new SignInRepository(db);
    this.hasher = hasher;
    this.policy = policy;
    this.outbox = outbox;
    this.audit = audit;
    this.revocations = revocations;
    this.throttle = throttle;
    this.limiter = limiter;
    this.accountClosed = accountClosed;
  }

  @Override
  public void mount(Router router, Api api) {
    this.api = api;
    api.authenticated(router, POST, "/api/v1/auth/password").handler(this::changePassword);
    api.authenticated(router, POST, "/api/v1/auth/email").handler(this::requestEmailChange);
    api.open(router, POST, "/api/v1/auth/email/confirm").handler(this::confirmEmailChange);
    api.authenticated(router, DELETE, "/api/v1/me").handler(this::closeAccount);
    api.authenticated(router, GET, "/api/v1/me/export").handler(this::export);
  }

  private record Me(String email, Optional<String> passwordHash) {}

  private Future<Me> me(Principal p) {
    return db.readInAccount(p.accountId(), tx -> tx.preparedQuery("SELECT email, password_hash FROM users WHERE id = $1")
        .execute(Tuple.of(p.userId()))
        .map(rows -> {
          Row r = rows.iterator().next();
          return new Me(r.getString("email"), Optional.ofNullable(r.getString("password_hash")));
        }));
  }

  /**
   * The current password must be right; a wrong one is a 401 like a wrong sign-in and is counted
   * with the same limits, so a stolen access token is no password oracle (429 while locked). The
   * count is the session's own: someone locking the account by guessing at sign-in must not stop
   * its owner, signed in elsewhere, from changing the password.
   */
  private Future<Me> confirmed(Principal p, String password) {
    String subject = SignInRoutes.throttleSubject(p.userId()) + "|session:" + p.sessionId();
    return SignInRoutes.admitted(throttle, subject).compose(admission -> me(p).transform(found -> found.failed()
        ? SignInRoutes.released(throttle, subject, found)
        : hasher.verify(password, found.result().passwordHash()).transform(checked -> checked.succeeded() && !checked.result()
            ? SignInRoutes.redis(throttle.failed(subject)).compose(failure -> Future.<Me>failedFuture(
                AppError.of(ErrorCode.INVALID_CREDENTIALS, "The current password is not right")))
            : SignInRoutes.released(throttle, subject, checked).map(found.result()))));
  }

  private void changePassword(RoutingContext ctx) {
    JsonInput in = JsonInput.of(ctx);
    String current = in.requiredText("currentPassword", 1024);
    String next = in.requiredText("newPassword", 1024);
    in.validate();
    policy.requireStrong(next);
    Principal p = Principal.of(ctx);
    var client = api.clients().of(ctx);
    Future<Void> done = confirmed(p, current).compose(me -> hasher.hash(next).compose(hash -> db.inAccount(p.accountId(), tx ->
            SignInRepository.setPassword(tx, p.userId(), hash)
                .compose(v -> SignInRepository.spendLinkTokens(tx, p.userId()))
                .compose(v -> SignInRepository.revokeUserSessions(tx, p.userId(), Optional.of(p.sessionId()), "password_changed"))
                // Whoever held the old password may hold signed file URLs too: they end with the sessions.
                .compose(n -> SignInRepository.bumpFileUrlEpoch(tx, p.accountId()).map(n))
                .compose(n -> audit.append(tx, AuditEntry.byUser(p, client, "password.changed").detail("otherSessionsEnded", n)))
                .compose(v -> outbox.enqueue(tx, OutgoingEmail.of("password_changed", me.email(),
                    new JsonObject().put("changedAt", Instant.now().toString()), "password-changed:" + p.userId() + ":" + hash.hashCode(),
                    p.accountId()))))))
        .compose(v -> revocations.publish(SessionRevoked.user(p.userId())));
    Api.noContent(ctx, done);
  }

  private void requestEmailChange(RoutingContext ctx) {
    JsonInput in = JsonInput.of(ctx);
    String current = in.requiredText("currentPassword", 1024);
    String newEmail = SignInRoutes.accountEmail(in, "newEmail");
    in.validate();
    Principal p = Principal.of(ctx);
    var client = api.clients().of(ctx);
    String token = SecretTokens.generate("");
    Future<Void> done = confirmed(p, current).compose(me -> emailChangeAllowed(ctx, p).compose(v -> repo.userByEmail(newEmail)).compose(taken -> {
      if (taken.isPresent()) {
        // Answer as if it worked: a 409 here would tell anyone with a password which addresses are registered.
        return Future.succeededFuture();
      }
      return db.inAccount(p.accountId(), tx -> SignInRepository.insertLinkToken(tx, p.accountId(), p.userId(), "email_change",
              SecretTokens.hash(token), EMAIL_CHANGE_LIFE, Optional.of(newEmail))
          .compose(v -> outbox.enqueue(tx, OutgoingEmail.of("email_change_confirm", newEmail, new JsonObject().put("newEmail", newEmail)
              .put("link", config.appLink("/confirm-email?token=" + token)),
              "email-change:" + java.util.HexFormat.of().formatHex(SecretTokens.hash(token)), p.accountId())))
          .compose(v -> outbox.enqueue(tx, OutgoingEmail.of("email_change_notice", me.email(), new JsonObject().put("newEmail", newEmail),
              "email-change-notice:" + java.util.HexFormat.of().formatHex(SecretTokens.hash(token)), p.accountId())))
          .compose(v -> audit.append(tx, AuditEntry.byUser(p, client, "email.change_requested")))).mapEmpty();
    }));
    Api.reply(ctx, done, 202, v -> new JsonObject().put("status", "confirmation_sent"));
  }

  /**
   * Each request mails whichever address the user names: without a cap a signed-in user could
   * mail a third party over and over. Counted once the password is confirmed, through Redis so
   * every instance shares the count; without Redis the request fails (503) and mails nothing.
   */
  private Future<Void> emailChangeAllowed(RoutingContext ctx, Principal p) {
    return SignInRoutes.redis(limiter.takeInWindow("email-change:" + p.userId(), EMAIL_CHANGES_PER_HOUR, Duration.ofHours(1)))
        .compose(d -> {
          if (!d.allowed()) {
            return Future.failedFuture(AppError.rateLimited(ErrorCode.RATE_LIMITED,
                "Too many email change requests; try again later", d.limit(), d.retryAfterSeconds(), d.resetSeconds()));
          }
          d.quota().putOn(ctx.response());
          return Future.succeededFuture();
        });
  }

  private void confirmEmailChange(RoutingContext ctx) {
    JsonInput in = JsonInput.of(ctx);
    String token = in.requiredText("token", 200);
    in.validate();
    var client = api.clients().of(ctx);
    Future<Void> done = repo.linkToken(SecretTokens.hash(token), "email_change").compose(found -> {
      if (found.isEmpty() || !found.get().usable() || found.get().newEmail().isEmpty()) {
        return Future.failedFuture(AppError.validation(List.of(new FieldError("token", "is invalid, used or expired"))));
      }
      SignInRepository.LinkToken t = found.get();
      return db.inAccount(t.accountId(), tx -> SignInRepository.useLinkToken(tx, t.id())
              .compose(used -> used ? tx.preparedQuery(
                      // A reset proved the old mailbox, not the new one: a staff address needs its own (V027).
                      "UPDATE users SET email = $2, email_verified_at = now(), password_set_by_reset_at = NULL, updated_at = now() WHERE id = $1")
                  .execute(Tuple.of(t.userId(), t.newEmail().get()))
                  .compose(x -> SignInRepository.spendLinkTokens(tx, t.userId()))
                  : Future.failedFuture(AppError.validation(List.of(new FieldError("token", "is invalid, used or expired")))))
              .compose(v -> audit.append(tx, new AuditEntry(Optional.of(t.accountId()), uk.co.tradersflow.platform.security.ActorType.USER,
                  Optional.of(t.userId()), Optional.empty(), "email.changed", Optional.of("user"), Optional.of(t.userId().toString()),
                  Optional.of(client.ip()), Optional.of(client.userAgent()), new JsonObject()))))
          .recover(e -> e instanceof PgException pg && "23505".equals(pg.getSqlState())
              ? Future.failedFuture(AppError.of(ErrorCode.CONFLICT, "That address now belongs to another account"))
              : Future.failedFuture(e))
          .compose(v -> revocations.publish(SessionRevoked.user(t.userId())));
    });
    Api.noContent(ctx, done);
  }

  private void closeAccount(RoutingContext ctx) {
    JsonInput in = JsonInput.of(ctx);
    String password = in.requiredText("password", 1024);
    in.validate();
    Principal p = Principal.of(ctx);
    var client = api.clients().of(ctx);
    Instant deleteAfter = Instant.now().plus(RETENTION);
    Future<Void> done = confirmed(p, password).compose(me -> db.inAccount(p.accountId(), tx -> tx.preparedQuery("""
                UPDATE accounts SET status = 'closed', closed_at = now(), delete_after = $2, file_url_epoch = file_url_epoch + 1,
                       updated_at = now() WHERE id = $1""")
            .execute(Tuple.of(p.accountId(), deleteAfter.atOffset(java.time.ZoneOffset.UTC)))
            .compose(v -> tx.preparedQuery("UPDATE sessions SET revoked_at = now(), revoked_reason = 'account_closed' WHERE revoked_at IS NULL")
                .execute())
            .compose(v -> audit.append(tx, AuditEntry.byUser(p, client, "account.closed").detail("deleteAfter", deleteAfter.toString())))
            .compose(v -> outbox.enqueue(tx, OutgoingEmail.of("account_closed", me.email(),
                new JsonObject().put("deleteAfter", deleteAfter.toString()), "account-closed:" + p.accountId(), p.accountId())))))
        .onSuccess(v -> accountClosed.run())
        .compose(v -> revocations.publish(SessionRevoked.user(p.userId())));
    Api.reply(ctx, done, 202, v -> new JsonObject().put("status", "closed").put("deleteAfter", deleteAfter.toString()));
  }

  /** Everything the account holds, as one JSON document (GDPR access and portability). Secrets and hashes excluded. */
  private void export(RoutingContext ctx) {
    Principal p = Principal.of(ctx);
    Future<JsonObject> doc = db.inAccount(p.accountId(), tx -> {
      JsonObject out = new JsonObject().put("exportedAt", Instant.now().toString());
      return section(tx, out, "account", "SELECT id, business_name, status, created_at FROM accounts")
          .compose(v -> section(tx, out, "users", "SELECT id, email, email_verified_at, created_at FROM users"))
          .compose(v -> section(tx, out, "customers", "SELECT * FROM customers ORDER BY created_at"))
          .compose(v -> section(tx, out, "jobs", "SELECT * FROM jobs ORDER BY created_at"))
          // Not lines_json or body_json: they only repeat the invoice and its lines, rendered for
          // the API (V015, V025).
          .compose(v -> section(tx, out, "invoices", "SELECT id, account_id, number, customer_id, job_id, status, currency, "
              + "total_pence, due_date, payment_url, paid_at, paid_by, version, created_at, updated_at FROM invoices ORDER BY created_at"))
          .compose(v -> section(tx, out, "invoiceLines", "SELECT * FROM invoice_lines ORDER BY invoice_id, position"))
          .compose(v -> section(tx, out, "paymentLinks", "SELECT invoice_id, invoice_version, url, created_at, retired_at "
              + "FROM invoice_payment_links ORDER BY created_at"))
          // The files themselves are fetched through their signed URLs (GET /api/v1/documents/{id}/url);
          // where and under which key they are stored is not the account's data.
          .compose(v -> section(tx, out, "documents", "SELECT id, job_id, filename, content_type, size_bytes, created_at "
              + "FROM documents ORDER BY created_at"))
          .compose(v -> section(tx, out, "billing", "SELECT stripe_customer_id, subscription_id, subscription_status, trial_end, "
              + "current_period_end, cancel_at_period_end, connect_account_id, charges_enabled, payouts_enabled, created_at "
              + "FROM billing_accounts"))
          .compose(v -> section(tx, out, "sessions", "SELECT id, created_at, last_used_at, revoked_at, user_agent, host(ip) AS ip FROM sessions"))
          .compose(v -> section(tx, out, "emails", "SELECT id, template, recipient, status, created_at, sent_at FROM email_outbox"))
          .compose(v -> section(tx, out, "emailEvents", "SELECT message_id, type, occurred_at FROM email_events ORDER BY occurred_at"))
          .compose(v -> section(tx, out, "activity", "SELECT action, occurred_at, host(ip) AS ip, user_agent, details FROM audit_log ORDER BY id"))
          .map(out);
    });
    doc.onSuccess(d -> ctx.response().putHeader("Content-Disposition", "attachment; filename=\"tradersflow-export.json\""));
    Api.reply(ctx, doc, 200, d -> d);
  }

  /** One table's rows, as JSON objects keyed by column (Postgres builds the JSON, so every type is rendered faithfully). */
  private static Future<Void> section(SqlConnection tx, JsonObject out, String name, String query) {
    return tx.query("SELECT coalesce(json_agg(row_to_json(t)), '[]'::json) AS rows FROM (" + query + ") t").execute()
        .map(rows -> {
          Object value = rows.iterator().next().getValue("rows");
          out.put(name, value instanceof JsonArray array ? array : new JsonArray());
          return null;
        });
  }
}
