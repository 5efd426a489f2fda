package uk.co.tradersflow.admin.signin;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import uk.co.tradersflow.admin.actions.SignInLinks;
import uk.co.tradersflow.audit.AuditEntry;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.auth.SecretTokens;
import uk.co.tradersflow.auth.SessionIssuer;
import uk.co.tradersflow.auth.SessionTokens;
import uk.co.tradersflow.config.AppConfig;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.db.Tx;
import uk.co.tradersflow.platform.http.ClientInfo;
import uk.co.tradersflow.platform.security.Actor;
import uk.co.tradersflow.platform.security.ActorType;
import uk.co.tradersflow.platform.security.Principal;

/**
 * Support sign-in: an owner or support member gets a one-time URL (the confirmed
 * {@code signin_link} admin action), and its first GET opens a session as the account's first
 * user, with the staff member as impersonator. Every audit entry the session causes carries
 * {@code impersonatedBy} (the principal carries the impersonator into {@code Actor.of}); the
 * admin gate refuses the session; the account's own activity shows {@code support.signed_in}.
 *
 * <p>A link never opens an account that has a staff address among its users: support must not
 * become an owner, nor one owner another. The check is made at issue and again at use, since the
 * allow-lists may have changed in between. Links hold only their token's hash, last 15 minutes and
 * are spent by their first use; the session they open ends after {@link #SESSION_LIFE} at most.
 */
public final class SignInLinkService implements SignInLinks {
    static final Duration LINK_LIFE = Duration.ofMinutes(15);
    /** However long a user's own sessions last, a support session ends within this. */
    static final Duration SESSION_LIFE = Duration.ofHours(1);

    static final String TOKEN_PREFIX = "tfl_";
    static final String PATH = "/api/v1/auth/signin-link";

    private final AppConfig.AuthSettings config;
    private final Db db;
    private final SignInLinkRepository repo;
    private final SessionIssuer sessions;
    private final AuditLog audit;
    private final String publicBase;

    public SignInLinkService(
            AppConfig.AuthSettings config, String publicUrl, Db db, SessionIssuer sessions, AuditLog audit) {
        this.config = config;
        this.db = db;
        this.repo = new SignInLinkRepository(db);
        this.sessions = sessions;
        this.audit = audit;
        this.publicBase = publicUrl.endsWith("/") ? publicUrl.substring(0, publicUrl.length() - 1) : publicUrl;
    }

    /**
     * Issues a link for {@code accountId}'s first user: 404 for no such account, 403
     * {@code account_suspended} for a suspended one, 409 for a closed one or one without users, 403
     * {@code insufficient_role} when a user of it has a staff address (or the caller is not staff).
     * Audited as {@code admin.signin_link_issued}, with the staff member as actor.
     */
    @Override
    public Future<JsonObject> issue(UUID actionId, UUID accountId, Principal staff) {
        Optional<String> role = roleOf(staff);
        if (role.isEmpty()) {
            return Future.failedFuture(
                    AppError.of(ErrorCode.INSUFFICIENT_ROLE, "Only owners and support staff may issue sign-in links"));
        }
        String token = SecretTokens.generate(TOKEN_PREFIX);
        return db.inAccount(accountId, tx -> SignInLinkRepository.accountStatus(tx, accountId)
                        .compose(status -> status.isEmpty()
                                ? Future.failedFuture(AppError.notFound())
                                : SignInLinkRepository.users(tx, accountId).compose(users -> {
                                    refuseUnlessOpenable(status.get(), users);
                                    UUID userId = users.get(0).id();
                                    return SignInLinkRepository.insert(
                                                    tx,
                                                    accountId,
                                                    userId,
                                                    actionId,
                                                    staff.userId(),
                                                    role.get(),
                                                    SecretTokens.hash(token),
                                                    LINK_LIFE)
                                            .compose(issued -> audit.append(
                                                            tx,
                                                            AuditEntry.by(
                                                                            ActorType.OWNER,
                                                                            Optional.of(staff.userId()),
                                                                            Optional.of(accountId),
                                                                            "admin.signin_link_issued")
                                                                    .target("user", userId)
                                                                    .detail("actionId", actionId.toString())
                                                                    .detail(
                                                                            "linkId",
                                                                            issued.id()
                                                                                    .toString())
                                                                    .detail("staffRole", role.get())
                                                                    .detail(
                                                                            "expiresAt",
                                                                            issued.expiresAt()
                                                                                    .toString()))
                                                    .map(issued));
                                })))
                .map(issued -> new JsonObject()
                        .put("url", publicBase + PATH + "?token=" + token)
                        .put("expiresAt", issued.expiresAt().toString()));
    }

    /**
     * The link's first use: the token pair of a new session as the account's user, impersonated by
     * the staff member who issued it. Unknown, spent or expired: 401 {@code invalid_token}. The
     * account suspended since: 403 {@code account_suspended}, and the link is left unspent (it
     * expires on its own).
     */
    public Future<SessionTokens> redeem(String token, ClientInfo.Client client) {
        if (token == null || !token.startsWith(TOKEN_PREFIX) || token.length() > 100) {
            return Future.failedFuture(invalid());
        }
        byte[] hash = SecretTokens.hash(token);
        return repo.accountOf(hash)
                .compose(account -> account.isEmpty()
                        ? Future.failedFuture(invalid())
                        : db.inAccount(account.get(), tx -> SignInLinkRepository.accountStatus(tx, account.get())
                                .compose(status -> SignInLinkRepository.users(tx, account.get())
                                        .compose(users -> {
                                            refuseUnlessOpenable(status.orElse("closed"), users);
                                            return SignInLinkRepository.spend(tx, hash);
                                        }))
                                .compose(spent -> spent.isEmpty()
                                        ? Future.failedFuture(invalid())
                                        : signIn(tx, account.get(), spent.get(), client))));
    }

    /** Whether {@link #redeem} would sign in with {@code token} now (a HEAD request), spending nothing. */
    public Future<Boolean> usable(String token) {
        if (token == null || !token.startsWith(TOKEN_PREFIX) || token.length() > 100) {
            return Future.succeededFuture(false);
        }
        byte[] hash = SecretTokens.hash(token);
        return repo.accountOf(hash)
                .compose(account ->
                        account.isEmpty() ? Future.succeededFuture(false) : repo.usable(account.get(), hash));
    }

    private Future<SessionTokens> signIn(
            Tx tx, UUID accountId, SignInLinkRepository.Spent link, ClientInfo.Client client) {
        Optional<UUID> impersonator = Optional.of(link.staffId());
        return sessions.open(tx, accountId, link.userId(), client.userAgent(), client.ip(), impersonator)
                .compose(issued -> SignInLinkRepository.shortenSession(tx, issued.sessionId(), SESSION_LIFE)
                        .compose(v -> SignInLinkRepository.recordSession(tx, link.id(), issued.sessionId()))
                        .compose(v -> audit.append(
                                tx,
                                AuditEntry.by(
                                                new Actor(ActorType.USER, Optional.of(link.userId()), impersonator),
                                                Optional.of(accountId),
                                                "support.signed_in")
                                        .from(client)
                                        .detail("staffId", link.staffId().toString())
                                        .detail("staffRole", link.staffRole())
                                        .detail("sessionId", issued.sessionId().toString())
                                        .detail("actionId", link.actionId().toString())))
                        .map(v -> new SessionTokens(
                                issued.sessionId(),
                                issued.accessToken(),
                                issued.refreshToken(),
                                config.accessTokenTtl(),
                                Optional.empty())));
    }

    /** Throws the refusal when the account may not be opened by a link: see {@link #issue}. */
    private void refuseUnlessOpenable(String status, List<SignInLinkRepository.AccountUser> users) {
        if ("suspended".equals(status)) {
            throw AppError.of(ErrorCode.ACCOUNT_SUSPENDED, "This account is suspended");
        }
        if (!"active".equals(status) || users.isEmpty()) {
            throw AppError.of(ErrorCode.CONFLICT, "This account is closed: there is nobody to sign in as");
        }
        if (users.stream().anyMatch(u -> config.isStaffEmail(u.email()))) {
            throw AppError.of(
                    ErrorCode.INSUFFICIENT_ROLE,
                    "This account belongs to TradersFlow staff: sign-in links never open a staff member's account");
        }
    }

    /** "owner" or "support" for a staff member signed in as themselves; empty for anyone else. */
    private Optional<String> roleOf(Principal staff) {
        if (staff.impersonatorId().isPresent() || !staff.emailVerified()) {
            return Optional.empty();
        }
        if (config.isOwnerEmail(staff.email())) {
            return Optional.of("owner");
        }
        return config.isSupportEmail(staff.email()) ? Optional.of("support") : Optional.empty();
    }

    private static AppError invalid() {
        return AppError.of(ErrorCode.INVALID_TOKEN, "This sign-in link is not valid: it is unknown, used or expired");
    }
}
