package uk.co.tradersflow.admin.signin;

import java.util.List;
import uk.co.tradersflow.admin.actions.SignInLinks;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.auth.SessionIssuer;
import uk.co.tradersflow.platform.module.Module;
import uk.co.tradersflow.platform.module.Shared;
import uk.co.tradersflow.ratelimit.RateLimiter;

/** Support sign-in links: the service the {@code signin_link} admin action calls, and the route that spends a link. */
public record SignInLinkModule(SignInLinks links, Module module) {
    public static SignInLinkModule create(Shared shared, AuditLog audit, SessionIssuer sessions, RateLimiter limiter) {
        var auth = shared.config().auth();
        SignInLinkService service = new SignInLinkService(
                auth, shared.config().links().publicUrl().toString(), shared.db(), sessions, audit);
        return new SignInLinkModule(
                service,
                new Module(
                        List.of(new SignInLinkRoutes(service, limiter, auth.loginIpLimitPerMinute(), shared.clients())),
                        List.of(),
                        List.of()));
    }
}
