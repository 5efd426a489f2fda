package uk.co.tradersflow.auth;

import io.vertx.core.Handler;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Tuple;
import uk.co.tradersflow.platform.security.Principal;
import uk.co.tradersflow.config.AppConfig;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.platform.metrics.SecurityEvents;
import uk.co.tradersflow.platform.db.Db;

/**
 * The admin area's gate, checked on the server for every admin route after {@code AuthGuard}:
 * the signed-in user's verified email must be on {@code TF_OWNER_EMAILS} (every route) or
 * {@code TF_SUPPORT_EMAILS} (read routes only; anything else 403 {@code insufficient_role}).
 * Anyone else signed in gets 403 {@code not_owner}. An owner session opened by impersonation is
 * not an owner session.
 *
 * <p>A listed address is not enough: anyone may sign up with an owner's address, and if the
 * owner clicks the unsolicited verification mail the squatter's password would open the admin
 * area. So the user must also have set their password through an emailed reset link (proof of
 * the mailbox and a password of their own), and this session must have been opened after that
 * reset: a session the squatter opened before it stays outside.
 */
public final class OwnerGuard implements Handler<RoutingContext> {
  static final String MAILBOX_PROVEN = """
      SELECT u.password_set_by_reset_at IS NOT NULL AND s.created_at >= u.password_set_by_reset_at AS proven
        FROM sessions s JOIN users u ON u.id = s.user_id
       WHERE s.id = $1 AND s.user_id = $2""";

  private final AppConfig config;
  private final Db db;

  public OwnerGuard(AppConfig config, Db db) {
    this.config = config;
    this.db = db;
  }

  @Override
  public void handle(RoutingContext ctx) {
    Principal p = Principal.of(ctx);
    boolean owner = config.isOwnerEmail(p.email());
    if (!p.emailVerified() || p.impersonatorId().isPresent() || !(owner || config.isSupportEmail(p.email()))) {
      deny(ctx, AppError.of(ErrorCode.NOT_OWNER, "This area is for TradersFlow owners only"));
      return;
    }
    db.readInAccount(p.accountId(), tx -> tx.preparedQuery(MAILBOX_PROVEN).execute(Tuple.of(p.sessionId(), p.userId())))
        .onFailure(ctx::fail)
        .onSuccess(rows -> {
          boolean proven = rows.size() == 1 && Boolean.TRUE.equals(rows.iterator().next().getBoolean("proven"));
          if (!proven) {
            deny(ctx, AppError.of(ErrorCode.NOT_OWNER, "A staff address opens this area only once its password has been set "
                + "through an emailed reset link: request a password reset, set the password, then sign in again"));
          } else if (!owner && !isRead(ctx.request().method())) {
            deny(ctx, AppError.of(ErrorCode.INSUFFICIENT_ROLE, "Support staff may read the admin area; only owners may act"));
          } else {
            ctx.next();
          }
        });
  }

  private static void deny(RoutingContext ctx, AppError refusal) {
    SecurityEvents.record(SecurityEvents.Event.ADMIN_DENIED);
    ctx.fail(refusal);
  }

  private static boolean isRead(HttpMethod method) {
    return HttpMethod.GET.equals(method) || HttpMethod.HEAD.equals(method);
  }
}
