package uk.co.tradersflow.auth;

import io.vertx.core.Handler;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Tuple;
import uk.co.tradersflow.audit.AuditEntry;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.config.AppConfig;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.http.Api;
import uk.co.tradersflow.platform.http.ClientInfo;
import uk.co.tradersflow.platform.metrics.SecurityEvents;
import uk.co.tradersflow.platform.security.Principal;

/**
 * The admin area's gate, checked on the server for every admin route after {@code AuthGuard}:
 * the signed-in user's verified email must be on {@code TF_OWNER_EMAILS} (every route) or
 * {@code TF_SUPPORT_EMAILS} (read routes, and the routes of {@code Api.staff} whose service checks
 * the role itself; anything else 403 {@code insufficient_role}).
 * Anyone else signed in gets 403 {@code not_owner}. An owner session opened by impersonation is
 * not an owner session.
 *
 * <p>A listed address is not enough: anyone may sign up with an owner's address, and if the
 * owner clicks the unsolicited verification mail the squatter's password would open the admin
 * area. So the user must also have set their password through an emailed reset link (proof of
 * the mailbox and a password of their own), and this session must have been opened after that
 * reset: a session the squatter opened before it stays outside.
 *
 * <p>Every refusal of a signed-in user is an audit entry ({@code admin.denied}): someone probing
 * the admin area, or a squatter trying a staff address, leaves a trace the owners can read.
 */
public final class OwnerGuard implements Handler<RoutingContext> {
    static final String MAILBOX_PROVEN =
            """
      SELECT u.password_set_by_reset_at IS NOT NULL AND s.created_at >= u.password_set_by_reset_at AS proven
        FROM sessions s JOIN users u ON u.id = s.user_id
       WHERE s.id = $1 AND s.user_id = $2""";

    private final AppConfig.AuthSettings config;
    private final Db db;
    private final AuditLog audit;
    private final ClientInfo clients;

    public OwnerGuard(AppConfig.AuthSettings config, Db db, AuditLog audit, ClientInfo clients) {
        this.config = config;
        this.db = db;
        this.audit = audit;
        this.clients = clients;
    }

    @Override
    public void handle(RoutingContext ctx) {
        Principal p = Principal.of(ctx);
        boolean owner = config.isOwnerEmail(p.email());
        if (!p.emailVerified() || p.impersonatorId().isPresent() || !(owner || config.isSupportEmail(p.email()))) {
            refuse(ctx, p, AppError.of(ErrorCode.NOT_OWNER, "This area is for TradersFlow owners only"));
            return;
        }
        db.readInAccount(p.accountId(), tx -> tx.preparedQuery(MAILBOX_PROVEN)
                        .execute(Tuple.of(p.sessionId(), p.userId())))
                .onFailure(ctx::fail)
                .onSuccess(rows -> {
                    boolean proven = rows.size() == 1
                            && Boolean.TRUE.equals(rows.iterator().next().getBoolean("proven"));
                    if (!proven) {
                        refuse(
                                ctx,
                                p,
                                AppError.of(
                                        ErrorCode.NOT_OWNER,
                                        "A staff address opens this area only once its password has been set "
                                                + "through an emailed reset link: request a password reset, set the password, then sign in again"));
                    } else if (!owner && !isRead(ctx.request().method()) && !staffRoute(ctx)) {
                        refuse(
                                ctx,
                                p,
                                AppError.of(
                                        ErrorCode.INSUFFICIENT_ROLE,
                                        "Support staff may read the admin area; only owners may act"));
                    } else {
                        ctx.next();
                    }
                });
    }

    /**
     * Records the refusal, then answers it. If the entry cannot be written the answer is the
     * database's failure (503): still a refusal, and no refusal goes unrecorded.
     */
    private void refuse(RoutingContext ctx, Principal p, AppError refusal) {
        AuditEntry entry = AuditEntry.byUser(p, clients.of(ctx), "admin.denied")
                .detail("code", refusal.code().code())
                .detail("method", ctx.request().method().name())
                .detail("path", ctx.request().path());
        SecurityEvents.record(SecurityEvents.Event.ADMIN_DENIED);
        db.inAccount(p.accountId(), tx -> audit.append(tx, entry))
                .onComplete(ar -> ctx.fail(ar.succeeded() ? refusal : ar.cause()));
    }

    /** A route of {@code Api.staff}: its service checks the role itself (support may ask for sign-in links). */
    private static boolean staffRoute(RoutingContext ctx) {
        return Boolean.TRUE.equals(ctx.get(Api.STAFF_ROUTE));
    }

    private static boolean isRead(HttpMethod method) {
        return HttpMethod.GET.equals(method) || HttpMethod.HEAD.equals(method);
    }
}
