package uk.co.tradersflow.auth;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.platform.security.Principal;

/**
 * Guards every protected route on the server: a valid bearer token, whose session is still live,
 * for a user whose account may act. Anything less is 401 (or 403 {@code account_suspended}).
 */
public final class AuthGuard implements Handler<RoutingContext> {
    private final AccessTokens tokens;
    private final SessionStateCache sessions;

    public AuthGuard(AccessTokens tokens, SessionStateCache sessions) {
        this.tokens = tokens;
        this.sessions = sessions;
    }

    @Override
    public void handle(RoutingContext ctx) {
        String header = ctx.request().getHeader("Authorization");
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7) || header.length() < 8) {
            ctx.response().putHeader("WWW-Authenticate", "Bearer");
            ctx.fail(AppError.of(ErrorCode.UNAUTHORIZED, "Send an access token as Authorization: Bearer <token>"));
            return;
        }
        String token = header.substring(7).trim();
        tokens.verify(token)
                .compose(claims -> sessions.get(claims.sessionId()).compose(state -> {
                    if (state.isEmpty()
                            || !state.get().live()
                            || !state.get().userId().equals(claims.userId())
                            || !state.get().accountId().equals(claims.accountId())) {
                        return Future.failedFuture(
                                AppError.of(ErrorCode.INVALID_TOKEN, "This session has ended; sign in again"));
                    }
                    SessionState s = state.get();
                    if (s.accountSuspended()) {
                        return Future.failedFuture(
                                AppError.of(ErrorCode.ACCOUNT_SUSPENDED, "This account is suspended"));
                    }
                    if (!s.accountActive()) {
                        return Future.failedFuture(AppError.of(ErrorCode.INVALID_TOKEN, "This account is closed"));
                    }
                    return Future.succeededFuture(new Principal(
                            s.userId(),
                            s.accountId(),
                            s.sessionId(),
                            s.email(),
                            s.emailVerified(),
                            s.impersonatorId()));
                }))
                .onSuccess(principal -> {
                    principal.attach(ctx);
                    ctx.next();
                })
                .onFailure(e -> {
                    if (e instanceof AppError app && app.code().status() == 401) {
                        uk.co.tradersflow.platform.metrics.SecurityEvents.record(
                                uk.co.tradersflow.platform.metrics.SecurityEvents.Event.TOKEN_REJECTED);
                        ctx.response().putHeader("WWW-Authenticate", "Bearer error=\"invalid_token\"");
                    }
                    ctx.fail(e);
                });
    }
}
