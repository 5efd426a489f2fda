package uk.co.tradersflow.auth;

import static uk.co.tradersflow.auth.AuthOutcomes.invalidLink;
import static uk.co.tradersflow.auth.AuthOutcomes.isUniqueViolation;
import static uk.co.tradersflow.auth.AuthOutcomes.userEntry;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Optional;
import uk.co.tradersflow.audit.AuditEntry;
import uk.co.tradersflow.email.OutgoingEmail;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.platform.bus.SessionRevoked;
import uk.co.tradersflow.platform.http.ClientInfo;
import uk.co.tradersflow.platform.security.Principal;
import uk.co.tradersflow.ratelimit.RateLimiter;

/**
 * The signed-in user's credential changes, each confirmed with the current password: change
 * the password (the user's other sessions end), and change the email address (confirmed from
 * the new address, the old one told).
 */
public final class AccountService {
    private static final Duration EMAIL_CHANGE_LIFE = Duration.ofHours(24);

    public record ChangePassword(Principal who, String currentPassword, String newPassword, ClientInfo.Client client) {
        @Override
        public String toString() {
            return "ChangePassword[user=" + who.userId() + "]";
        }
    }

    /** {@code newEmail} as {@link EmailAddress#accountEmail} checked it. */
    public record RequestEmailChange(
            Principal who, String currentPassword, EmailAddress newEmail, ClientInfo.Client client) {
        @Override
        public String toString() {
            return "RequestEmailChange[user=" + who.userId() + "]";
        }
    }

    public record ConfirmEmailChange(String token, ClientInfo.Client client) {
        @Override
        public String toString() {
            return "ConfirmEmailChange[]";
        }
    }

    private final CredentialTools tools;
    private final SignInRepository signIns;
    private final CurrentPassword currentPassword;

    AccountService(CredentialTools tools, SignInRepository signIns, CurrentPassword currentPassword) {
        this.tools = tools;
        this.signIns = signIns;
        this.currentPassword = currentPassword;
    }

    /** A new password; every other session of the user ends, and with them the signed file URLs. */
    public Future<Void> changePassword(ChangePassword cmd) {
        Principal p = cmd.who();
        return Future.<Void>succeededFuture()
                .compose(v -> {
                    tools.policy().requireStrong(cmd.newPassword());
                    return currentPassword.confirmed(p, cmd.currentPassword());
                })
                .compose(me -> tools.hasher().hash(cmd.newPassword()).compose(hash -> tools.db()
                        .inAccount(p.accountId(), tx -> SignInRepository.setPassword(tx, p.userId(), hash)
                                .compose(v -> SignInRepository.spendLinkTokens(tx, p.userId()))
                                .compose(v -> SignInRepository.revokeUserSessions(
                                        tx, p.userId(), Optional.of(p.sessionId()), "password_changed"))
                                // Whoever held the old password may hold signed file URLs too: they end with the
                                // sessions.
                                .compose(n -> SignInRepository.bumpFileUrlEpoch(tx, p.accountId())
                                        .map(n))
                                .compose(n -> tools.audit()
                                        .append(
                                                tx,
                                                AuditEntry.byUser(p, cmd.client(), "password.changed")
                                                        .detail("otherSessionsEnded", n)))
                                .compose(v -> tools.outbox()
                                        .enqueue(
                                                tx,
                                                OutgoingEmail.of(
                                                        "password_changed",
                                                        me.email().value(),
                                                        new JsonObject()
                                                                .put(
                                                                        "changedAt",
                                                                        Instant.now()
                                                                                .toString()),
                                                        "password-changed:" + p.userId() + ":" + hash.hashCode(),
                                                        p.accountId()))))))
                .compose(v -> tools.revocations().publish(SessionRevoked.user(p.userId())));
    }

    /**
     * Mails a confirmation link to the new address and a notice to the old one. A new address
     * that is already registered is answered alike and mails nothing: a 409 would tell anyone
     * with a password which addresses are registered. Answers the per-user hourly limit's state.
     */
    public Future<RateLimiter.Decision> requestEmailChange(RequestEmailChange cmd) {
        Principal p = cmd.who();
        EmailAddress newEmail = cmd.newEmail();
        String token = SecretTokens.generate("");
        String tokenHash = HexFormat.of().formatHex(SecretTokens.hash(token));
        return currentPassword.confirmed(p, cmd.currentPassword()).compose(me -> tools.limits()
                .emailChangeAllowed(p.userId())
                .compose(decision -> signIns.userByEmail(newEmail)
                        .compose(taken -> taken.isPresent()
                                ? Future.<Void>succeededFuture()
                                : tools.db()
                                        .inAccount(p.accountId(), tx -> SignInRepository.insertLinkToken(
                                                        tx,
                                                        p.accountId(),
                                                        p.userId(),
                                                        "email_change",
                                                        SecretTokens.hash(token),
                                                        EMAIL_CHANGE_LIFE,
                                                        Optional.of(newEmail))
                                                .compose(v -> tools.outbox()
                                                        .enqueue(
                                                                tx,
                                                                OutgoingEmail.of(
                                                                        "email_change_confirm",
                                                                        newEmail.value(),
                                                                        new JsonObject()
                                                                                .put("newEmail", newEmail.value())
                                                                                .put(
                                                                                        "link",
                                                                                        tools.mails()
                                                                                                .link(
                                                                                                        "/confirm-email",
                                                                                                        token)),
                                                                        "email-change:" + tokenHash,
                                                                        p.accountId())))
                                                .compose(v -> tools.outbox()
                                                        .enqueue(
                                                                tx,
                                                                OutgoingEmail.of(
                                                                        "email_change_notice",
                                                                        me.email()
                                                                                .value(),
                                                                        new JsonObject()
                                                                                .put("newEmail", newEmail.value()),
                                                                        "email-change-notice:" + tokenHash,
                                                                        p.accountId())))
                                                .compose(v -> tools.audit()
                                                        .append(
                                                                tx,
                                                                AuditEntry.byUser(
                                                                        p, cmd.client(), "email.change_requested"))))
                                        .mapEmpty())
                        .map(decision)));
    }

    /** Moves the user to the address a confirmation link was sent to; their sessions end. */
    public Future<Void> confirmEmailChange(ConfirmEmailChange cmd) {
        return signIns.linkToken(SecretTokens.hash(cmd.token()), "email_change").compose(found -> {
            if (found.isEmpty()
                    || !found.get().usable()
                    || found.get().newEmail().isEmpty()) {
                return Future.failedFuture(invalidLink());
            }
            SignInRepository.LinkToken t = found.get();
            return tools.db()
                    .inAccount(t.accountId(), tx -> SignInRepository.useLinkToken(tx, t.id())
                            .compose(used -> used
                                    ? AccountRepository.changeEmail(
                                                    tx, t.userId(), t.newEmail().get())
                                            .compose(x -> SignInRepository.spendLinkTokens(tx, t.userId()))
                                    : Future.failedFuture(invalidLink()))
                            .compose(v -> tools.audit()
                                    .append(tx, userEntry(t.accountId(), t.userId(), cmd.client(), "email.changed"))))
                    .recover(e -> isUniqueViolation(e)
                            ? Future.failedFuture(
                                    AppError.of(ErrorCode.CONFLICT, "That address now belongs to another account"))
                            : Future.failedFuture(e))
                    .compose(v -> tools.revocations().publish(SessionRevoked.user(t.userId())));
        });
    }
}
