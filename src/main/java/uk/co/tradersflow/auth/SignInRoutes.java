package uk.co.tradersflow.auth;

import static io.vertx.core.http.HttpMethod.POST;

import io.vertx.core.Handler;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import uk.co.tradersflow.platform.http.Api;
import uk.co.tradersflow.platform.http.ClientInfo;
import uk.co.tradersflow.platform.http.JsonInput;
import uk.co.tradersflow.platform.http.RouteModule;
import uk.co.tradersflow.platform.security.Principal;

/**
 * {@code /api/v1/auth}: sign-up, email verification, sign-in, refresh, sign-out (here or
 * everywhere) and password reset. Each handler parses, calls one service method, replies; the
 * flows themselves are in {@link SignUpService}, {@link SignInService}, {@link SessionService}
 * and {@link PasswordResetService}.
 */
public final class SignInRoutes implements RouteModule {
    private final SignUpService signUp;
    private final SignInService signIn;
    private final SessionService session;
    private final PasswordResetService reset;
    private final AuthLimits limits;
    private final ClientInfo clients;

    SignInRoutes(
            SignUpService signUp,
            SignInService signIn,
            SessionService session,
            PasswordResetService reset,
            AuthLimits limits,
            ClientInfo clients) {
        this.clients = clients;
        this.limits = limits;
        this.signUp = signUp;
        this.signIn = signIn;
        this.session = session;
        this.reset = reset;
    }

    @Override
    public void mount(Router router, Api api) {
        api.open(router, POST, "/api/v1/auth/signup").handler(perIp("signup")).handler(this::signup);
        api.open(router, POST, "/api/v1/auth/verify-email").handler(this::verifyEmail);
        api.open(router, POST, "/api/v1/auth/login").handler(perIp("login")).handler(this::login);
        api.open(router, POST, "/api/v1/auth/refresh").handler(this::refresh);
        api.authenticated(router, POST, "/api/v1/auth/logout").handler(this::logout);
        api.authenticated(router, POST, "/api/v1/auth/logout-all").handler(this::logoutAll);
        api.open(router, POST, "/api/v1/auth/password-reset/request")
                .handler(perIp("reset"))
                .handler(this::resetRequest);
        api.open(router, POST, "/api/v1/auth/password-reset/confirm").handler(this::resetConfirm);
    }

    private Handler<RoutingContext> perIp(String action) {
        return limits.perIp(action, clients);
    }

    private void signup(RoutingContext ctx) {
        JsonInput in = JsonInput.of(ctx);
        EmailAddress email = EmailAddress.accountEmail(in, "email");
        String password = in.requiredText("password", 1024);
        String businessName = in.requiredText("businessName", 200);
        in.validate();
        Api.reply(
                ctx,
                signUp.signUp(new SignUpService.SignUp(email, password, businessName, clients.of(ctx))),
                201,
                done -> new JsonObject()
                        .put("userId", done.userId().toString())
                        .put("accountId", done.accountId().toString()));
    }

    private void verifyEmail(RoutingContext ctx) {
        JsonInput in = JsonInput.of(ctx);
        String token = in.requiredText("token", 200);
        in.validate();
        Api.noContent(ctx, signUp.verifyEmail(new SignUpService.VerifyEmail(token, clients.of(ctx))));
    }

    private void login(RoutingContext ctx) {
        JsonInput in = JsonInput.of(ctx);
        EmailAddress email = EmailAddress.of(in.requiredText("email", 254));
        String password = in.requiredText("password", 1024);
        var deviceToken = in.optionalText("deviceToken", 300);
        in.validate();
        Api.reply(
                ctx,
                signIn.signIn(new SignInService.SignIn(email, password, deviceToken, clients.of(ctx))),
                200,
                SessionTokens::toJson);
    }

    private void refresh(RoutingContext ctx) {
        JsonInput in = JsonInput.of(ctx);
        String token = in.requiredText("refreshToken", 200);
        in.validate();
        Api.reply(ctx, session.refresh(new SessionService.Refresh(token, clients.of(ctx))), 200, SessionTokens::toJson);
    }

    private void logout(RoutingContext ctx) {
        Api.noContent(ctx, session.signOut(Principal.of(ctx), clients.of(ctx)));
    }

    private void logoutAll(RoutingContext ctx) {
        Api.noContent(ctx, session.signOutEverywhere(Principal.of(ctx), clients.of(ctx)));
    }

    private void resetRequest(RoutingContext ctx) {
        JsonInput in = JsonInput.of(ctx);
        EmailAddress email = EmailAddress.of(in.requiredText("email", 254));
        in.validate();
        Api.reply(
                ctx,
                reset.request(new PasswordResetService.RequestReset(email, clients.of(ctx))),
                202,
                accepted -> new JsonObject().put("status", "accepted"));
    }

    private void resetConfirm(RoutingContext ctx) {
        JsonInput in = JsonInput.of(ctx);
        String token = in.requiredText("token", 200);
        String password = in.requiredText("newPassword", 1024);
        in.validate();
        Api.noContent(ctx, reset.confirm(new PasswordResetService.ConfirmReset(token, password, clients.of(ctx))));
    }
}
