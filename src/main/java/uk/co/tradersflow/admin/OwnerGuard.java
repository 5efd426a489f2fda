package uk.co.tradersflow.admin;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import uk.co.tradersflow.auth.Principal;
import uk.co.tradersflow.config.AppConfig;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;

/**
 * The admin area's gate, checked on the server for every admin route after {@code AuthGuard}:
 * the signed-in user's verified email must be on {@code TF_OWNER_EMAILS}. Anyone else signed in
 * gets 403 {@code not_owner}. An owner session opened by impersonation is not an owner session.
 */
public final class OwnerGuard implements Handler<RoutingContext> {
  private final AppConfig config;

  public OwnerGuard(AppConfig config) {
    this.config = config;
  }

  @Override
  public void handle(RoutingContext ctx) {
    Principal p = Principal.of(ctx);
    if (p.emailVerified() && p.impersonatorId().isEmpty() && config.isOwnerEmail(p.email())) {
      ctx.next();
    } else {
      uk.co.tradersflow.platform.metrics.SecurityEvents.record(uk.co.tradersflow.platform.metrics.SecurityEvents.Event.ADMIN_DENIED);
      ctx.fail(AppError.of(ErrorCode.NOT_OWNER, "This area is for TradersFlow owners only"));
    }
  }
}
