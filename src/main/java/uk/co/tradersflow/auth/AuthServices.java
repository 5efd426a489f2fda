package uk.co.tradersflow.auth;

import java.time.Clock;
import java.util.List;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.config.AppConfig;
import uk.co.tradersflow.email.EmailOutbox;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.http.ClientInfo;
import uk.co.tradersflow.platform.http.RouteModule;
import uk.co.tradersflow.ratelimit.LoginThrottle;
import uk.co.tradersflow.ratelimit.RateLimiter;

/**
 * The auth capability's use cases, built once from the shared clients, and the routes over them.
 * Anything that acts for a user without HTTP (the admin area, jobs, OAuth sign-in, tests) takes
 * the service it needs from here, the same instance the routes call.
 */
public final class AuthServices {
    private final SignUpService signUp;
    private final SignInService signIn;
    private final SessionService session;
    private final PasswordResetService passwordReset;
    private final AccountService account;
    private final MeService me;
    private final SessionIssuer sessions;
    private final AuthLimits limits;

    /**
     * {@code throttle} is the one lockout count per user, whichever flow checks their password;
     * {@code accountClosed} runs after a closure commits (it wakes the retention job);
     * {@code signingKey} (the URL-signing key) is the root of device and refresh tokens' keys.
     */
    public AuthServices(
            AppConfig.AuthSettings config,
            Db db,
            PasswordHasher hasher,
            PasswordPolicy policy,
            AccessTokens accessTokens,
            LoginThrottle throttle,
            RateLimiter limiter,
            byte[] signingKey,
            byte[] dataKey,
            EmailOutbox outbox,
            AuditLog audit,
            SessionRevocations revocations,
            Clock clock,
            Runnable accountClosed) {
        SignInRepository signIns = new SignInRepository(db);
        AccountRepository accounts = new AccountRepository(db);
        this.limits = new AuthLimits(limiter, config.loginIpLimitPerMinute());
        AuthMails mails = new AuthMails(config);
        CurrentPassword currentPassword = new CurrentPassword(accounts, hasher, throttle);
        this.sessions = new SessionIssuer(accessTokens, new RefreshTokens(signingKey), config.refreshTokenTtl());
        this.signIn = new SignInService(
                db,
                signIns,
                hasher,
                sessions,
                throttle,
                mails,
                new DeviceTokens(signingKey, clock),
                outbox,
                audit,
                clock);
        this.session = new SessionService(
                db,
                signIns,
                sessions,
                new SealedTokens(dataKey),
                audit,
                revocations,
                config.refreshReuseGrace(),
                clock);
        CredentialTools credentials =
                new CredentialTools(db, hasher, policy, limits, mails, outbox, audit, revocations);
        this.signUp = new SignUpService(credentials, signIns, clock);
        this.passwordReset = new PasswordResetService(credentials, signIns);
        this.account = new AccountService(credentials, signIns, currentPassword);
        this.me = new MeService(
                db, new MeRepository(db), accounts, currentPassword, outbox, audit, revocations, accountClosed);
    }

    /** The auth routes, in the order they are mounted; {@code clients} reads each request's client address. */
    public List<RouteModule> routes(ClientInfo clients) {
        return List.of(
                new SignInRoutes(signUp, signIn, session, passwordReset, limits, clients),
                new MeRoutes(me, clients),
                new AccountRoutes(account, clients));
    }

    public SignUpService signUp() {
        return signUp;
    }

    public SignInService signIn() {
        return signIn;
    }

    public SessionService session() {
        return session;
    }

    public PasswordResetService passwordReset() {
        return passwordReset;
    }

    public AccountService account() {
        return account;
    }

    public MeService me() {
        return me;
    }

    /** The auth flows' request limits: other front doors to sign-in share their per-address budget. */
    public AuthLimits limits() {
        return limits;
    }

    /** Opens sessions inside another flow's transaction (OAuth sign-in, an owner's support link). */
    public SessionIssuer sessions() {
        return sessions;
    }
}
