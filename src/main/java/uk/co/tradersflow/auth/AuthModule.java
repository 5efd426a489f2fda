package uk.co.tradersflow.auth;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.email.EmailOutbox;
import uk.co.tradersflow.platform.bus.Addresses;
import uk.co.tradersflow.platform.bus.Signal;
import uk.co.tradersflow.platform.module.Module;
import uk.co.tradersflow.platform.module.Shared;
import uk.co.tradersflow.ratelimit.LoginThrottle;
import uk.co.tradersflow.ratelimit.RateLimiter;

/**
 * Auth: its use cases ({@link AuthServices}) and routes, and what the API's guards need from it:
 * the access-token guard, the owner gate, and the session revocations {@code MainVerticle}
 * starts before the listeners open and stops last.
 */
public record AuthModule(
        AuthServices services,
        AccessTokens accessTokens,
        SessionRevocations revocations,
        AuthGuard guard,
        OwnerGuard ownerGuard,
        Module module) {
    private static final Logger log = LoggerFactory.getLogger(AuthModule.class);

    public static AuthModule create(Shared shared, AuditLog audit, EmailOutbox outbox, RateLimiter rateLimiter) {
        var config = shared.config();
        var vertx = shared.vertx();
        AccessTokens accessTokens =
                new AccessTokens(shared.keys(), config.auth().accessTokenTtl(), shared.clock());
        log.info("access tokens signed by {}", accessTokens.signedBy());
        SessionStateCache sessionStates = new SessionStateCache(vertx, shared.db());
        SessionRevocations revocations =
                new SessionRevocations(vertx, shared.redis(), shared.redisKeys(), sessionStates);
        // Argon2 is slow on purpose: threads of its own, one per core.
        PasswordHasher hasher = new PasswordHasher(vertx, Runtime.getRuntime().availableProcessors());
        // One lockout count per user, whichever route checks their password.
        LoginThrottle loginThrottle = new LoginThrottle(
                shared.redis(),
                shared.redisKeys(),
                config.auth().loginMaxFailures(),
                config.auth().loginLockout());
        AuthServices services = new AuthServices(
                config.auth(),
                shared.db(),
                hasher,
                new PasswordPolicy(),
                accessTokens,
                loginThrottle,
                rateLimiter,
                shared.keys().urlSigningKey(),
                shared.keys().dataKey(),
                outbox,
                audit,
                revocations,
                shared.clock(),
                () -> vertx.eventBus().publish(Addresses.ACCOUNT_CLOSED, Signal.INSTANCE));
        return new AuthModule(
                services,
                accessTokens,
                revocations,
                new AuthGuard(accessTokens, sessionStates),
                new OwnerGuard(config.auth(), shared.db(), audit, shared.clients()),
                new Module(services.routes(shared.clients()), java.util.List.of(), java.util.List.of()));
    }
}
