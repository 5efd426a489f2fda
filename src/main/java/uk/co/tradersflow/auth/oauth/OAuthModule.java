package uk.co.tradersflow.auth.oauth;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.auth.AuthServices;
import uk.co.tradersflow.config.AppConfig;
import uk.co.tradersflow.email.EmailOutbox;
import uk.co.tradersflow.platform.module.Module;
import uk.co.tradersflow.platform.module.Shared;

/**
 * Sign in with Google and Apple: the providers that have client ids (TF_GOOGLE_CLIENT_IDS,
 * TF_APPLE_CLIENT_IDS), their key sets kept fresh by a verticle of their own, the sign-in and
 * identity routes. Built on auth's sign-in service, so the session, lockout, audit and alerts are
 * the password's.
 */
public final class OAuthModule {
    private OAuthModule() {}

    public static Module create(Shared shared, AuthServices auth, AuditLog audit, EmailOutbox outbox) {
        AppConfig.AuthSettings config = shared.config().auth();
        WebClient client = WebClient.create(
                shared.vertx(),
                new WebClientOptions()
                        .setConnectTimeout(5_000)
                        .setIdleTimeout(30)
                        .setUserAgent("TradersFlow")
                        .setFollowRedirects(false));
        Map<String, Provider> providers = new LinkedHashMap<>();
        if (!config.googleClientIds().isEmpty()) {
            providers.put(
                    Provider.GOOGLE,
                    new Provider(
                            Provider.GOOGLE,
                            "Google",
                            config.googleClientIds(),
                            Set.copyOf(config.googleIssuers()),
                            new JwksCache(shared.vertx(), client, "Google", config.googleJwksUrl())));
        }
        if (!config.appleClientIds().isEmpty()) {
            providers.put(
                    Provider.APPLE,
                    new Provider(
                            Provider.APPLE,
                            "Apple",
                            config.appleClientIds(),
                            Set.of(Provider.APPLE_ISSUER),
                            new JwksCache(shared.vertx(), client, "Apple", config.appleJwksUrl())));
        }
        IdentityRepository repo = new IdentityRepository(shared.db());
        IdentityMails mails = new IdentityMails(outbox, shared.clock());
        OAuthSignInService signIn = new OAuthSignInService(
                providers, new IdTokenVerifier(shared.clock()), repo, auth.signIn(), mails, audit);
        IdentityService identities = new IdentityService(shared.db(), repo, mails, audit);
        List<JwksCache> keySets =
                providers.values().stream().map(Provider::keys).toList();
        return new Module(
                List.of(new OAuthRoutes(
                        signIn, identities, auth.limits().perIp("login", shared.clients()), shared.clients())),
                keySets.isEmpty() ? List.of() : List.of(Module.Deployment.single(new KeySetsVerticle(keySets))),
                List.of());
    }

    /** Fetches each provider's keys at start (without waiting: a provider down must not stop the server) and keeps them fresh. */
    static final class KeySetsVerticle extends VerticleBase {
        private final List<JwksCache> keySets;

        KeySetsVerticle(List<JwksCache> keySets) {
            this.keySets = keySets;
        }

        @Override
        public Future<?> start() {
            keySets.forEach(JwksCache::start);
            return Future.succeededFuture();
        }

        @Override
        public Future<?> stop() {
            keySets.forEach(JwksCache::stop);
            return Future.succeededFuture();
        }
    }
}
