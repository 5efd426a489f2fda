package uk.co.tradersflow.auth;

import static io.vertx.core.http.HttpMethod.POST;

import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import uk.co.tradersflow.platform.http.Api;
import uk.co.tradersflow.platform.http.ClientInfo;
import uk.co.tradersflow.platform.http.JsonInput;
import uk.co.tradersflow.platform.http.RouteModule;
import uk.co.tradersflow.platform.security.Principal;

/** {@code /api/v1/auth/password} and {@code /api/v1/auth/email}: the signed-in user's credential changes ({@link AccountService}). */
public final class AccountRoutes implements RouteModule {
    private final AccountService account;
    private final ClientInfo clients;

    public AccountRoutes(AccountService account, ClientInfo clients) {
        this.clients = clients;
        this.account = account;
    }

    @Override
    public void mount(Router router, Api api) {
        api.authenticated(router, POST, "/api/v1/auth/password").handler(this::changePassword);
        api.authenticated(router, POST, "/api/v1/auth/email").handler(this::requestEmailChange);
        api.open(router, POST, "/api/v1/auth/email/confirm").handler(this::confirmEmailChange);
    }

    private void changePassword(RoutingContext ctx) {
        JsonInput in = JsonInput.of(ctx);
        String current = in.requiredText("currentPassword", 1024);
        String next = in.requiredText("newPassword", 1024);
        in.validate();
        Api.noContent(
                ctx,
                account.changePassword(
                        new AccountService.ChangePassword(Principal.of(ctx), current, next, clients.of(ctx))));
    }

    private void requestEmailChange(RoutingContext ctx) {
        JsonInput in = JsonInput.of(ctx);
        String current = in.requiredText("currentPassword", 1024);
        EmailAddress newEmail = EmailAddress.accountEmail(in, "newEmail");
        in.validate();
        var requested = account.requestEmailChange(
                new AccountService.RequestEmailChange(Principal.of(ctx), current, newEmail, clients.of(ctx)));
        Api.reply(ctx, requested, 202, d -> {
            d.quota().putOn(ctx.response());
            return new JsonObject().put("status", "confirmation_sent");
        });
    }

    private void confirmEmailChange(RoutingContext ctx) {
        JsonInput in = JsonInput.of(ctx);
        String token = in.requiredText("token", 200);
        in.validate();
        Api.noContent(ctx, account.confirmEmailChange(new AccountService.ConfirmEmailChange(token, clients.of(ctx))));
    }
}
