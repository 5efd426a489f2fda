package uk.co.tradersflow.auth;

import static uk.co.tradersflow.auth.AuthOutcomes.invalidLink;
import static uk.co.tradersflow.auth.AuthOutcomes.usable;
import static uk.co.tradersflow.auth.AuthOutcomes.userEntry;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.co.tradersflow.email.OutgoingEmail;
import uk.co.tradersflow.platform.bus.SessionRevoked;
import uk.co.tradersflow.platform.http.ClientInfo;
import uk.co.tradersflow.platform.metrics.SecurityEvents;

/**
 * Password reset by emailed link. A request is accepted alike, and as fast, whether or not its
 * address is registered: the mail is queued after the acceptance, never before it.
 */
public final class PasswordResetService {
    private static final Logger log = LoggerFactory.getLogger(PasswordResetService.class);
    private static final Duration RESET_LIFE = Duration.ofHours(1);

    public record RequestReset(EmailAddress email, ClientInfo.Client client) {}

    public record ConfirmReset(String token, String newPassword, ClientInfo.Client client) {
        @Override
        public String toString() {
            return "ConfirmReset[]";
        }
    }

    private final CredentialTools tools;
    private final SignInRepository repo;

    PasswordResetService(CredentialTools tools, SignInRepository repo) {
        this.tools = tools;
        this.repo = repo;
    }

    /**
     * Completes at once: the mail, if the address is registered and under its hourly cap, is queued
     * after, and its outcome is logged, never answered, so nothing about the address leaks. (The
     * caller's per-IP limit is the route's: {@code SignInRoutes}.)
     */
    public Future<Void> request(RequestReset cmd) {
        SecurityEvents.record(SecurityEvents.Event.PASSWORD_RESET_REQUESTED);
        repo.userByEmail(cmd.email())
                .compose(user -> user.map(u -> tools.limits()
                                .resetMailAllowed(cmd.email())
                                .compose(allowed -> allowed
                                        ? sendReset(u, cmd.email(), cmd.client())
                                        : Future.<Void>succeededFuture()))
                        .orElse(Future.succeededFuture()))
                .onFailure(e -> log.warn("password reset email not queued: {}", e.getMessage()));
        return Future.succeededFuture();
    }

    private Future<Void> sendReset(SignInRepository.UserByEmail user, EmailAddress email, ClientInfo.Client client) {
        String token = SecretTokens.generate("");
        byte[] hash = SecretTokens.hash(token);
        return tools.db().inAccount(user.accountId(), tx -> SignInRepository.insertLinkToken(
                        tx, user.accountId(), user.userId(), "password_reset", hash, RESET_LIFE, Optional.empty())
                .compose(v -> tools.outbox()
                        .enqueue(
                                tx,
                                OutgoingEmail.of(
                                        "password_reset",
                                        email.value(),
                                        tools.mails()
                                                .staffNote(
                                                        email,
                                                        new JsonObject()
                                                                .put(
                                                                        "link",
                                                                        tools.mails()
                                                                                .link("/reset-password", token))),
                                        "reset:" + HexFormat.of().formatHex(hash),
                                        user.accountId())))
                .compose(v -> tools.audit()
                        .append(tx, userEntry(user.accountId(), user.userId(), client, "password.reset_requested"))));
    }

    /** Sets the new password through a reset link; every session of the user ends. */
    public Future<Void> confirm(ConfirmReset cmd) {
        return Future.<Void>succeededFuture()
                .compose(v -> {
                    tools.policy().requireStrong(cmd.newPassword());
                    return repo.linkToken(SecretTokens.hash(cmd.token()), "password_reset");
                })
                .compose(found -> {
                    SignInRepository.LinkToken t = usable(found);
                    // The link proved the mailbox is theirs: that verifies the address too (so a sign-up that
                    // squatted it unverified is taken back), and every other link still out is spent.
                    return tools.hasher()
                            .hash(cmd.newPassword())
                            .compose(hash -> tools.db().inAccount(t.accountId(), tx -> SignInRepository.useLinkToken(
                                            tx, t.id())
                                    .compose(used -> used
                                            ? SignInRepository.setPassword(tx, t.userId(), hash)
                                            : Future.failedFuture(invalidLink()))
                                    .compose(v -> SignInRepository.markVerified(tx, t.userId()))
                                    // What a staff address needs before the admin area opens (admin/OwnerGuard).
                                    .compose(v -> SignInRepository.markPasswordSetByReset(tx, t.userId()))
                                    .compose(v -> SignInRepository.spendLinkTokens(tx, t.userId()))
                                    .compose(v -> SignInRepository.revokeUserSessions(
                                            tx, t.userId(), Optional.empty(), "password_reset"))
                                    .compose(n -> SignInRepository.bumpFileUrlEpoch(tx, t.accountId())
                                            .map(n))
                                    .compose(n -> tools.audit()
                                            .append(
                                                    tx,
                                                    userEntry(t.accountId(), t.userId(), cmd.client(), "password.reset")
                                                            .detail("sessionsEnded", n)))))
                            .compose(v -> tools.revocations().publish(SessionRevoked.user(t.userId())));
                });
    }
}
