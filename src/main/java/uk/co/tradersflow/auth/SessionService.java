package uk.co.tradersflow.auth;

import io.vertx.core.Future;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;
import uk.co.tradersflow.audit.AuditEntry;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.platform.bus.SessionRevoked;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.http.ClientInfo;
import uk.co.tradersflow.platform.metrics.SecurityEvents;
import uk.co.tradersflow.platform.security.Actor;
import uk.co.tradersflow.platform.security.ActorType;
import uk.co.tradersflow.platform.security.Principal;

/**
 * A session after it is opened: the rotating refresh (a stolen token, used twice, ends its whole
 * family), and its end, here or on every device of the user.
 */
public final class SessionService {
    public record Refresh(String refreshToken, ClientInfo.Client client) {
        @Override
        public String toString() {
            return "Refresh[]";
        }
    }

    private final Db db;
    private final SignInRepository repo;
    private final SessionIssuer sessions;
    private final SealedTokens sealed;
    private final AuditLog audit;
    private final SessionRevocations revocations;
    private final Duration reuseGrace;
    private final Clock clock;

    SessionService(
            Db db,
            SignInRepository repo,
            SessionIssuer sessions,
            SealedTokens sealed,
            AuditLog audit,
            SessionRevocations revocations,
            Duration reuseGrace,
            Clock clock) {
        this.db = db;
        this.repo = repo;
        this.sessions = sessions;
        this.sealed = sealed;
        this.audit = audit;
        this.revocations = revocations;
        this.reuseGrace = reuseGrace;
        this.clock = clock;
    }

    // ------------------------------------------------------------------------------------ refresh

    /**
     * Rotates a refresh token: its successor and a fresh access token, or the family ended if it was
     * stolen. One statement decides and moves the session's generation (sql/V049); the token of the
     * next generation is computed, not stored, so a retry within the grace period gets it again.
     */
    public Future<SessionTokens> refresh(Refresh cmd) {
        Optional<RefreshTokens.Presented> presented = sessions.refreshTokens().read(cmd.refreshToken());
        if (presented.isPresent()) {
            return rotate(presented.get(), cmd.client());
        }
        // Only a token shaped as the first form's is looked up by its hash: anything else, a token under
        // a retired key included, finds nothing.
        return RefreshTokens.isOfTheFirstForm(cmd.refreshToken())
                ? rotateIssuedBefore(cmd.refreshToken(), cmd.client())
                : Future.failedFuture(invalidToken());
    }

    private Future<SessionTokens> rotate(RefreshTokens.Presented presented, ClientInfo.Client client) {
        UUID sessionId = presented.sessionId();
        byte[] secret = presented.secret();
        return repo.rotateSession(sessionId, presented.secretHash(), presented.generation(), clock.instant())
                .compose(found -> {
                    if (found.isEmpty()) {
                        return Future.failedFuture(invalidToken());
                    }
                    SignInRepository.SessionRotation state = found.get();
                    Family family = new Family(state.accountId(), state.userId(), sessionId, state.impersonatorId());
                    if (state.rotated()) {
                        return Future.succeededFuture(
                                pair(family, sessions.refreshFor(sessionId, state.generation(), secret)));
                    }
                    Optional<AppError> refused =
                            refused(state.sessionLive(), state.expiresAt(), state.accountSuspended());
                    if (refused.isPresent()) {
                        return Future.failedFuture(refused.get());
                    }
                    // Not spent yet not rotated: the database judged the session expired at the same instant,
                    // rounded to microseconds; or a generation it never reached (restored from a backup older
                    // than the token).
                    if (presented.generation() >= state.generation()) {
                        return Future.failedFuture(invalidToken());
                    }
                    // Spent when the session reached the generation after it: the last two spends are
                    // remembered, so a racing client that has since refreshed once more is still answered.
                    long behind = state.generation() - presented.generation();
                    Optional<Instant> spentAt = behind == 1
                            ? state.refreshedAt()
                            : behind == 2 ? state.previouslyRefreshedAt() : Optional.empty();
                    boolean inGrace = spentAt.map(at -> at.plus(reuseGrace).isAfter(clock.instant()))
                            .orElse(false);
                    return inGrace
                            ? Future.succeededFuture(
                                    pair(family, sessions.refreshFor(sessionId, presented.generation() + 1, secret)))
                            : reuse(family, client);
                });
    }

    /**
     * A refresh token issued before V049 (a random value found by its hash): rotated once more in the
     * old way, into the session's first token of the new form (a new secret), sealed as its successor
     * so that a retry within the grace period gets the same one. Two round trips, for one refresh per
     * session in the 30 days after the upgrade.
     */
    private Future<SessionTokens> rotateIssuedBefore(String token, ClientInfo.Client client) {
        byte[] hash = SecretTokens.hash(token);
        return repo.sessionOfIssuedToken(hash).compose(session -> {
            if (session.isEmpty()) {
                return Future.failedFuture(invalidToken());
            }
            byte[] secret = RefreshTokens.newSecret();
            String successor = sessions.refreshFor(session.get(), 0, secret);
            return repo.rotateRefreshToken(
                            hash,
                            clock.instant(),
                            UUID.randomUUID(),
                            sealed.seal(successor, hash),
                            RefreshTokens.secretHash(secret),
                            sessions.refreshTtl())
                    .compose(found -> {
                        if (found.isPresent() && found.get().rotated()) {
                            return Future.succeededFuture(
                                    pair(Family.of(found.get().row()), successor));
                        }
                        if (found.isEmpty()) {
                            return Future.failedFuture(invalidToken());
                        }
                        SignInRepository.RefreshRow row = found.get().row();
                        Optional<AppError> refused =
                                refused(row.sessionLive(), row.expiresAt(), row.accountSuspended());
                        if (refused.isPresent()) {
                            return Future.failedFuture(refused.get());
                        }
                        if (row.spentAt().isEmpty()) {
                            return Future.failedFuture(invalidToken());
                        }
                        boolean inGrace = row.spentAt().get().plus(reuseGrace).isAfter(clock.instant());
                        return inGrace && row.successorSealed().isPresent()
                                ? Future.succeededFuture(pair(
                                        Family.of(row),
                                        successorOf(row, row.successorSealed().get(), hash)))
                                : reuse(Family.of(row), client);
                    });
        });
    }

    /** Why a token whose session was found may not be refreshed now; empty when it may. */
    private Optional<AppError> refused(boolean sessionLive, Instant expiresAt, boolean accountSuspended) {
        if (!sessionLive || expiresAt.isBefore(clock.instant())) {
            return Optional.of(invalidToken());
        }
        // A suspended account's sessions stay (reinstating brings them back) but open nothing meanwhile.
        return accountSuspended
                ? Optional.of(AppError.of(ErrorCode.ACCOUNT_SUSPENDED, "This account is suspended"))
                : Optional.empty();
    }

    private static AppError invalidToken() {
        return AppError.of(ErrorCode.INVALID_TOKEN, "The refresh token is invalid or expired; sign in again");
    }

    /** One sign-in's session, as a refresh finds it. */
    private record Family(UUID accountId, UUID userId, UUID sessionId, Optional<UUID> impersonatorId) {
        static Family of(SignInRepository.RefreshRow row) {
            return new Family(row.accountId(), row.userId(), row.sessionId(), row.impersonatorId());
        }
    }

    /** A spent token presented after its grace period (a replay, or a stolen copy): the family is revoked. */
    private Future<SessionTokens> reuse(Family family, ClientInfo.Client client) {
        SecurityEvents.record(SecurityEvents.Event.REFRESH_REUSE);
        return db.inAccount(family.accountId(), tx -> SignInRepository.revokeSession(
                                tx, family.sessionId(), "refresh_token_reuse")
                        .compose(v -> audit.append(
                                tx,
                                // A support session's reuse is the staff member's session's: impersonatedBy stays on
                                // it.
                                AuditEntry.by(
                                                new Actor(
                                                        ActorType.USER,
                                                        Optional.of(family.userId()),
                                                        family.impersonatorId()),
                                                Optional.of(family.accountId()),
                                                "auth.refresh_reuse")
                                        .target("user", family.userId())
                                        .from(client)
                                        .detail("sessionId", family.sessionId().toString()))))
                .compose(v -> revocations.publish(SessionRevoked.session(family.sessionId())))
                .compose(v -> Future.failedFuture(AppError.of(
                        ErrorCode.INVALID_TOKEN,
                        "This refresh token was already used; the session has been ended for safety")));
    }

    /**
     * The sealed successor of spent token {@code row}, presented as the token hashed to {@code hash}.
     * A successor sealed before V044 is bound to the row's id instead.
     */
    private String successorOf(SignInRepository.RefreshRow row, byte[] successorSealed, byte[] hash) {
        try {
            return sealed.open(successorSealed, hash);
        } catch (IllegalStateException boundToTheRow) {
            return sealed.open(successorSealed, row.id().toString().getBytes(StandardCharsets.UTF_8));
        }
    }

    private SessionTokens pair(Family family, String refreshToken) {
        return SessionTokens.of(
                new SessionIssuer.Issued(
                        family.sessionId(),
                        sessions.accessFor(
                                family.userId(), family.accountId(), family.sessionId(), family.impersonatorId()),
                        refreshToken),
                sessions.accessTtl(),
                Optional.empty());
    }

    // ------------------------------------------------------------------------------------ sign-out

    /** Ends the caller's own session. */
    public Future<Void> signOut(Principal me, ClientInfo.Client client) {
        return db.inAccount(me.accountId(), tx -> SignInRepository.revokeSession(tx, me.sessionId(), "logout")
                        .compose(v -> audit.append(
                                tx,
                                AuditEntry.byUser(me, client, "logout")
                                        .detail("sessionId", me.sessionId().toString()))))
                .compose(v -> revocations.publish(SessionRevoked.session(me.sessionId())));
    }

    /** Ends every session of the caller, and the signed file URLs handed out under them. */
    public Future<Void> signOutEverywhere(Principal me, ClientInfo.Client client) {
        return db.inAccount(me.accountId(), tx -> SignInRepository.revokeUserSessions(
                                tx, me.userId(), Optional.empty(), "logout_all")
                        .compose(n -> SignInRepository.bumpFileUrlEpoch(tx, me.accountId())
                                .compose(v -> audit.append(
                                        tx,
                                        AuditEntry.byUser(me, client, "logout_all")
                                                .detail("sessions", n)))))
                .compose(v -> revocations.publish(SessionRevoked.user(me.userId())));
    }
}
