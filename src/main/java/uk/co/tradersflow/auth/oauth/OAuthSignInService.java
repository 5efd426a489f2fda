package uk.co.tradersflow.auth.oauth;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgException;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.co.tradersflow.audit.AuditEntry;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.auth.EmailAddress;
import uk.co.tradersflow.auth.SessionTokens;
import uk.co.tradersflow.auth.SignInService;
import uk.co.tradersflow.auth.SignInService.Attempt;
import uk.co.tradersflow.auth.SignInService.SignInUser;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.platform.http.ClientInfo;
import uk.co.tradersflow.platform.metrics.SecurityEvents;
import uk.co.tradersflow.platform.security.ActorType;
import uk.co.tradersflow.ratelimit.LoginThrottle;

/**
 * Sign-in with a Google or Apple ID token: a second and third front door to {@link SignInService},
 * whose steps it takes (the lockout count, the audit entries, the alert mail, the session and its
 * device token are the password's).
 *
 * <p>The token's subject, once the token is verified, decides whom it signs in: a subject linked
 * before signs into its user whatever its address has become at the provider. A new subject with
 * an address nobody holds creates an account whose address is verified (the provider verified it)
 * and which has no password. A new subject with the address of an existing user is linked to that
 * user only when both the provider and the user verified the address (otherwise 409
 * {@code account_exists_unverified}: an unproven provider address must not open someone's
 * account); linking mails the user and is audited.
 *
 * <p>The attempt is counted, before the token is verified, under the user its subject is linked to
 * (the one lockout count per user) or under the subject itself; a refused token counts as a wrong
 * password does, and answers 401 {@code invalid_id_token} with the reason in the log.
 */
public final class OAuthSignInService {
    private static final Logger log = LoggerFactory.getLogger(OAuthSignInService.class);

    /** A sign-in with {@code provider}'s ID token; the business name is for an account it creates. */
    public record OAuthSignIn(
            String provider,
            String idToken,
            Optional<String> nonce,
            Optional<String> businessName,
            Optional<String> deviceToken,
            ClientInfo.Client client) {
        @Override
        public String toString() {
            return "OAuthSignIn[provider=" + provider + "]";
        }
    }

    private final Map<String, Provider> providers;
    private final IdTokenVerifier verifier;
    private final IdentityRepository repo;
    private final SignInService signIns;
    private final IdentityMails mails;
    private final AuditLog audit;

    OAuthSignInService(
            Map<String, Provider> providers,
            IdTokenVerifier verifier,
            IdentityRepository repo,
            SignInService signIns,
            IdentityMails mails,
            AuditLog audit) {
        this.providers = Map.copyOf(providers);
        this.verifier = verifier;
        this.repo = repo;
        this.signIns = signIns;
        this.mails = mails;
        this.audit = audit;
    }

    /** The provider, when this server has client ids for it; 404 {@code provider_not_configured} otherwise. */
    Provider configured(String id) {
        Provider provider = providers.get(id);
        if (provider == null) {
            throw AppError.of(
                    ErrorCode.PROVIDER_NOT_CONFIGURED,
                    "Sign-in with " + Provider.nameOf(id) + " is not configured on this server");
        }
        return provider;
    }

    public Future<SessionTokens> signIn(OAuthSignIn cmd) {
        Provider provider;
        try {
            provider = configured(cmd.provider());
        } catch (AppError e) {
            return Future.failedFuture(e);
        }
        Optional<String> claimed = IdTokenVerifier.claimedSubject(cmd.idToken());
        if (claimed.isEmpty()) {
            // Names nobody, so there is no count to keep: refused as it is (the per-address limit
            // still applies), for the reason the verifier finds.
            return verifier.verify(provider, cmd.idToken(), cmd.nonce()).transform(ar -> {
                if (ar.failed() && !(ar.cause() instanceof IdTokenVerifier.IdTokenRejected)) {
                    return Future.failedFuture(ar.cause());
                }
                SecurityEvents.record(SecurityEvents.Event.LOGIN_FAILED);
                return Future.failedFuture(rejected(
                        provider,
                        ar.failed() ? ((IdTokenVerifier.IdTokenRejected) ar.cause()).reason() : "no usable subject"));
            });
        }
        String digest = digest(claimed.get());
        return repo.userByIdentity(provider.id(), claimed.get()).compose(linked -> {
            Attempt attempt = signIns.attempt(
                    linked,
                    LoginThrottle.Subject.identity(provider.id(), digest),
                    cmd.deviceToken(),
                    cmd.client(),
                    new JsonObject().put("provider", provider.id()).put("subjectSha256", digest.substring(0, 16)));
            return signIns.admitted(attempt).compose(admission -> verifier.verify(provider, cmd.idToken(), cmd.nonce())
                    .transform(verified -> {
                        if (verified.failed() && verified.cause() instanceof IdTokenVerifier.IdTokenRejected r) {
                            return signIns.refused(
                                    attempt,
                                    rejected(provider, r.reason()),
                                    new JsonObject()
                                            .put("provider", provider.id())
                                            .put("reason", r.reason()));
                        }
                        Future<SessionTokens> outcome = verified.succeeded()
                                ? accepted(provider, attempt, linked, verified.result(), cmd, true)
                                : Future.failedFuture(verified.cause());
                        // Another answer (409, 403, 503) or an error gives the admission back.
                        return outcome.recover(e -> signIns.settled(attempt, Future.failedFuture(e)));
                    }));
        });
    }

    /** Logged with its reason (never the token); the client learns only that it was refused. */
    private static AppError rejected(Provider provider, String reason) {
        log.info("{} ID token refused: {}", provider.name(), reason);
        return AppError.of(ErrorCode.INVALID_ID_TOKEN, "The " + provider.name() + " ID token was not accepted");
    }

    private Future<SessionTokens> accepted(
            Provider provider,
            Attempt attempt,
            Optional<SignInUser> linked,
            IdToken token,
            OAuthSignIn cmd,
            boolean mayRetry) {
        JsonObject details = new JsonObject().put("method", provider.id());
        Future<SessionTokens> outcome;
        if (linked.isPresent()) {
            SignInUser user = linked.get();
            outcome = signIns.open(attempt, user, details, tx -> IdentityRepository.touch(
                            tx, provider.id(), user.userId(), token)
                    .compose(still -> still
                            ? Future.<Void>succeededFuture()
                            : Future.failedFuture(AppError.of(
                                    ErrorCode.CONFLICT,
                                    provider.name() + " sign-in was just removed from this account; try again"))));
        } else if (token.email().isEmpty()) {
            outcome = Future.failedFuture(AppError.of(
                    ErrorCode.EMAIL_NOT_VERIFIED,
                    provider.name() + " did not share an email address for this sign-in"));
        } else {
            EmailAddress email = token.email().get();
            outcome = repo.userByEmail(email)
                    .compose(holder -> holder.isEmpty()
                            ? created(provider, attempt, token, email, cmd, details)
                            : linked(provider, attempt, token, holder.get(), details));
        }
        // Two first sign-ins of one subject (or one address) at once: the second finds the first's rows.
        return !mayRetry
                ? outcome
                : outcome.recover(e -> isUniqueViolation(e)
                        ? repo.userByIdentity(provider.id(), token.subject())
                                .compose(again -> accepted(provider, attempt, again, token, cmd, false))
                        : Future.failedFuture(e));
    }

    /** A new subject with a new address: a new account and user, verified, without a password. */
    private Future<SessionTokens> created(
            Provider provider,
            Attempt attempt,
            IdToken token,
            EmailAddress email,
            OAuthSignIn cmd,
            JsonObject details) {
        if (!token.emailVerified()) {
            return Future.failedFuture(AppError.of(
                    ErrorCode.EMAIL_NOT_VERIFIED, provider.name() + " has not verified this email address"));
        }
        SignInUser user = new SignInUser(UUID.randomUUID(), UUID.randomUUID(), email, 0, true, "active");
        String businessName = cmd.businessName().orElseGet(() -> localPart(email));
        return signIns.open(attempt, user, details.copy().put("created", true), tx -> IdentityRepository.createAccount(
                        tx, user, businessName)
                .compose(v -> IdentityRepository.link(tx, user, provider.id(), token))
                .compose(v -> audit.append(
                        tx,
                        userEntry(user, attempt.client(), "account.signed_up")
                                .detail("method", provider.id())
                                .detail("privateEmail", token.privateEmail()))));
    }

    /**
     * A new subject with the address of an existing user: linked only when both sides proved the
     * address. The user is mailed that this way in was added, and it is audited.
     */
    private Future<SessionTokens> linked(
            Provider provider, Attempt attempt, IdToken token, SignInUser user, JsonObject details) {
        if (!token.emailVerified() || !user.emailVerified()) {
            return Future.failedFuture(AppError.of(
                    ErrorCode.ACCOUNT_EXISTS_UNVERIFIED,
                    "An account with this email address exists, and the address is not verified on both sides: "
                            + "sign in with the password (or reset it), then link " + provider.name()));
        }
        return signIns.open(attempt, user, details.copy().put("linked", true), tx -> IdentityRepository.link(
                        tx, user, provider.id(), token)
                .compose(v -> audit.append(
                        tx, userEntry(user, attempt.client(), "identity.linked").detail("provider", provider.id())))
                .compose(v -> mails.changed(
                        tx,
                        IdentityMails.ADDED,
                        user.accountId(),
                        user.userId(),
                        user.email().value(),
                        provider.id(),
                        token.email()
                                .map(EmailAddress::value)
                                .orElse(user.email().value()))));
    }

    private static AuditEntry userEntry(SignInUser user, ClientInfo.Client client, String action) {
        return new AuditEntry(
                        Optional.of(user.accountId()),
                        ActorType.USER,
                        Optional.of(user.userId()),
                        Optional.empty(),
                        action,
                        Optional.of("user"),
                        Optional.of(user.userId().toString()),
                        Optional.empty(),
                        Optional.empty(),
                        new JsonObject())
                .from(client);
    }

    /** The business name an account gets when the request names none: the address's local part. */
    static String localPart(EmailAddress email) {
        String local = email.value().substring(0, email.value().indexOf('@')).strip();
        return local.isEmpty() ? "My business" : local.length() > 200 ? local.substring(0, 200) : local;
    }

    static String digest(String subject) {
        return IdTokenVerifier.sha256Hex(subject);
    }

    private static boolean isUniqueViolation(Throwable e) {
        return e instanceof PgException pg && "23505".equals(pg.getSqlState());
    }
}
