package uk.co.tradersflow.admin.actions;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.co.tradersflow.admin.actions.ActionEffects.Performed;
import uk.co.tradersflow.admin.actions.AdminActionsRepository.Found;
import uk.co.tradersflow.admin.actions.AdminActionsRepository.Stored;
import uk.co.tradersflow.admin.actions.AdminActionsRepository.Target;
import uk.co.tradersflow.audit.AuditEntry;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.config.AppConfig;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.db.Tx;
import uk.co.tradersflow.platform.http.ClientInfo;
import uk.co.tradersflow.platform.http.JsonInput;
import uk.co.tradersflow.platform.metrics.SecurityEvents;
import uk.co.tradersflow.platform.security.ActorType;
import uk.co.tradersflow.platform.security.Principal;

/**
 * The admin area's two-step actions. {@link #request} validates an action, checks the state it
 * needs and stores it as pending with a one-time confirmation token bound to the requester (five
 * minutes); nothing else happens. {@link #confirm} performs it exactly once: one UPDATE moves it
 * from pending to performing only for the right requester, the right token, before the deadline,
 * so of two confirmations at once one performs and the other is refused. Every request,
 * confirmation, outcome, expiry and refusal is an audit entry with the staff member as actor.
 *
 * <p>Owners may do everything; support staff ({@code TF_SUPPORT_EMAILS}) only sign-in links, and
 * not into an account of staff. Callers have passed the admin gate ({@code Api.staff}).
 */
public final class AdminActionsService {
    private static final Logger log = LoggerFactory.getLogger(AdminActionsService.class);
    private static final int MAX_REASON = 500;
    private static final long MAX_AMOUNT_PENCE = 10_000_000_000L;

    /** A staff member's request: the body as sent. */
    public record Request(Principal staff, ClientInfo.Client client, JsonObject body) {}

    /** A staff member's confirmation of action {@code id}. */
    public record Confirm(UUID id, Optional<String> token, Principal staff, ClientInfo.Client client) {}

    /** A stored, pending action: what the requester must confirm, with the token, shown only now. */
    public record Proposed(
            UUID id,
            AdminAction action,
            Optional<UUID> accountId,
            String summary,
            String confirmationToken,
            Instant expiresAt) {
        public JsonObject toJson() {
            return new JsonObject()
                    .put("id", id.toString())
                    .put("action", action.wire())
                    .put("accountId", accountId.map(UUID::toString).orElse(null))
                    .put("summary", summary)
                    .put("confirmationToken", confirmationToken)
                    .put("expiresAt", expiresAt.toString());
        }
    }

    /** An action as validated from a request body. */
    private record Asked(AdminAction action, Optional<UUID> accountId, JsonObject params) {}

    /** A claim's outcome: the action to perform, or the refusal (already recorded) to answer. */
    private record Claim(Optional<Stored> won, Optional<AppError> refusal) {}

    private final Db db;
    private final AdminActionsRepository repo;
    private final AuditLog audit;
    private final AppConfig.AuthSettings roles;
    private final ActionEffects effects;

    AdminActionsService(
            Db db, AdminActionsRepository repo, AuditLog audit, AppConfig.AuthSettings roles, ActionEffects effects) {
        this.db = db;
        this.repo = repo;
        this.audit = audit;
        this.roles = roles;
        this.effects = effects;
    }

    // ------------------------------------------------------------------------------------ request

    public Future<Proposed> request(Request r) {
        boolean owner = roles.isOwnerEmail(r.staff().email());
        Object asked = r.body().getValue("action");
        if (!owner && !AdminAction.SIGNIN_LINK.wire().equals(asked)) {
            return denied(r.staff(), r.client(), Optional.empty(), "Support staff may only ask for sign-in links");
        }
        Asked a;
        try {
            a = parse(r.body());
        } catch (AppError invalid) {
            return refused(r.staff(), r.client(), Optional.empty(), asked, invalid);
        }
        Future<Optional<Target>> target = a.accountId().isPresent()
                ? repo.target(a.accountId().get())
                        .compose(t -> t.isPresent()
                                ? Future.succeededFuture(t)
                                : Future.failedFuture(AppError.of(ErrorCode.NOT_FOUND, "No such account")))
                : Future.succeededFuture(Optional.empty());
        return target.compose(t -> {
                    if (!owner && t.isPresent() && t.get().emails().stream().anyMatch(roles::isStaffEmail)) {
                        return denied(
                                r.staff(),
                                r.client(),
                                a.accountId(),
                                "Support staff may not sign in to an account of TradersFlow staff");
                    }
                    return effects.prepare(a.action(), t, a.params());
                })
                .compose(prepared -> store(r, a, prepared))
                .recover(e -> e instanceof AppError refusal && refusal.code() != ErrorCode.INSUFFICIENT_ROLE
                        ? refused(r.staff(), r.client(), a.accountId(), asked, refusal)
                        : Future.failedFuture(e));
    }

    private Future<Proposed> store(Request r, Asked a, ActionEffects.Prepared prepared) {
        String token = ConfirmationTokens.generate();
        return db.asWorker(tx -> AdminActionsRepository.insert(
                        tx,
                        a.action(),
                        a.accountId(),
                        prepared.params(),
                        r.staff().userId(),
                        ConfirmationTokens.hash(token))
                .compose(row -> {
                    UUID id = row.getUUID("id");
                    Instant expiresAt = AdminActionsRepository.expiresAt(row);
                    return audit.append(
                                    tx,
                                    entry(r.staff(), r.client(), a.accountId(), "admin.action_requested")
                                            .target("admin_action", id)
                                            .detail("action", a.action().wire())
                                            .detail("params", prepared.params())
                                            .detail("summary", prepared.summary())
                                            .detail("expiresAt", expiresAt.toString()))
                            .map(v ->
                                    new Proposed(id, a.action(), a.accountId(), prepared.summary(), token, expiresAt));
                }));
    }

    /** Field by field, every problem at once (422); unknown fields are ignored. */
    private static Asked parse(JsonObject body) {
        JsonInput in = JsonInput.of(body);
        Optional<AdminAction> action = in.optionalEnum("action", AdminAction.class);
        if (action.isEmpty() && !in.hasError("action")) {
            in.error("action", "is required");
        }
        Optional<UUID> accountId = in.optionalUuid("accountId");
        JsonInput params = in.object("params");
        JsonObject kept = new JsonObject();
        action.ifPresent(kind -> {
            if (kind.needsAccount() && accountId.isEmpty() && !in.hasError("accountId")) {
                in.error("accountId", "is required");
            }
            switch (kind) {
                case SUSPEND -> kept.put("reason", params.requiredText("reason", MAX_REASON));
                case REINSTATE -> params.optionalText("reason", MAX_REASON).ifPresent(v -> kept.put("reason", v));
                case EXTEND_TRIAL ->
                    params.optionalLong("days", 1, 90).ifPresentOrElse(d -> kept.put("days", d.intValue()), () -> {
                        if (!params.hasError("days")) {
                            params.error("days", "is required");
                        }
                    });
                case REFUND -> {
                    String pi = params.requiredText("paymentIntentId", 255);
                    if (!pi.isEmpty() && !pi.matches("^pi_[A-Za-z0-9_]{1,200}$")) {
                        params.error("paymentIntentId", "must be a Stripe payment intent id (pi_…)");
                    }
                    kept.put("paymentIntentId", pi);
                    params.optionalLong("amountPence", 1, MAX_AMOUNT_PENCE).ifPresent(v -> kept.put("amountPence", v));
                }
                case EXPORT_REPORT ->
                    params.optionalEnum("report", Report.class)
                            .ifPresentOrElse(
                                    rep -> kept.put("report", rep.name().toLowerCase(java.util.Locale.ROOT)), () -> {
                                        if (!params.hasError("report")) {
                                            params.error("report", "is required");
                                        }
                                    });
                case SIGNIN_LINK -> {}
            }
        });
        in.validate();
        AdminAction kind = action.orElseThrow();
        return new Asked(kind, kind.needsAccount() ? accountId : Optional.empty(), kept);
    }

    /** The reports an owner may export. */
    private enum Report {
        ACCOUNTS,
        SUBSCRIPTIONS,
        EMAILS,
        AUDIT
    }

    // ------------------------------------------------------------------------------------ confirm

    /** Performs the action once; its result, or the refusal (recorded) of a wrong, spent, expired or foreign confirmation. */
    public Future<JsonObject> confirm(Confirm c) {
        if (c.token().isEmpty()) {
            AppError missing = ActionEffects.invalid("confirmationToken", "is required");
            return db.asWorker(tx -> recordRefusal(tx, c, Optional.empty(), missing))
                    .transform(ar -> Future.failedFuture(ar.succeeded() ? missing : ar.cause()));
        }
        boolean owner = roles.isOwnerEmail(c.staff().email());
        byte[] hash = ConfirmationTokens.hash(c.token().get());
        return db.asWorker(tx -> supportMayConfirm(tx, c, owner, hash)
                        .compose(allowed -> allowed
                                ? AdminActionsRepository.claim(
                                                tx, c.id(), c.staff().userId(), hash)
                                        .compose(claimed -> claimed.isPresent()
                                                ? confirmed(tx, c, claimed.get())
                                                : AdminActionsRepository.find(tx, c.id(), hash)
                                                        .compose(found -> refuseClaim(tx, c, found)))
                                : supportRefused(tx, c)))
                .compose(claim -> claim.refusal().isPresent()
                        ? Future.failedFuture(claim.refusal().get())
                        : perform(claim.won().orElseThrow(), c));
    }

    /** Owners may confirm any action of theirs; support staff only sign-in links (an existing one of that kind). */
    private static Future<Boolean> supportMayConfirm(Tx tx, Confirm c, boolean owner, byte[] hash) {
        return owner
                ? Future.succeededFuture(true)
                : AdminActionsRepository.find(tx, c.id(), hash)
                        .map(f -> f.isPresent() && f.get().action().action().supportMay());
    }

    private Future<Claim> supportRefused(Tx tx, Confirm c) {
        SecurityEvents.record(SecurityEvents.Event.ADMIN_DENIED);
        AppError refusal = AppError.of(
                ErrorCode.INSUFFICIENT_ROLE, "Support staff may only confirm the sign-in links they asked for");
        return audit.append(
                        tx,
                        denial(c.staff(), c.client(), Optional.empty(), refusal).target("admin_action", c.id()))
                .map(v -> new Claim(Optional.empty(), Optional.of(refusal)));
    }

    private Future<Claim> confirmed(Tx tx, Confirm c, Stored won) {
        return audit.append(
                        tx,
                        entry(c.staff(), c.client(), won.accountId(), "admin.action_confirmed")
                                .target("admin_action", won.id())
                                .detail("action", won.action().wire()))
                .map(v -> new Claim(Optional.of(won), Optional.empty()));
    }

    /** Why the claim failed, recorded in the same unit: unknown, someone else's, wrong token, spent, or expired. */
    private Future<Claim> refuseClaim(Tx tx, Confirm c, Optional<Found> found) {
        Optional<UUID> account = found.flatMap(f -> f.action().accountId());
        if (found.isEmpty()) {
            return recordRefusal(tx, c, account, AppError.notFound());
        }
        Found f = found.get();
        if (!f.action().requestedBy().equals(c.staff().userId())) {
            return recordRefusal(
                    tx,
                    c,
                    account,
                    AppError.of(ErrorCode.ACTION_NOT_YOURS, "Only the one who asked may confirm this action"));
        }
        if (!f.tokenMatches()) {
            return recordRefusal(
                    tx,
                    c,
                    account,
                    AppError.of(ErrorCode.CONFIRMATION_INVALID, "The confirmation token does not match"));
        }
        if (!"pending".equals(f.status()) && !"expired".equals(f.status())) {
            return recordRefusal(
                    tx,
                    c,
                    account,
                    AppError.of(
                            ErrorCode.ACTION_ALREADY_CONFIRMED,
                            "This action was already confirmed (" + f.status() + ")"));
        }
        AppError expired = AppError.of(ErrorCode.ACTION_EXPIRED, "This action expired unconfirmed; ask for it again");
        return AdminActionsRepository.expire(tx, c.id())
                .compose(now -> now ? audit.append(tx, expiry(f.action())) : Future.<Void>succeededFuture())
                .compose(v -> recordRefusal(tx, c, account, expired));
    }

    private Future<Claim> recordRefusal(Tx tx, Confirm c, Optional<UUID> account, AppError refusal) {
        return audit.append(
                        tx,
                        entry(c.staff(), c.client(), account, "admin.confirmation_refused")
                                .target("admin_action", c.id())
                                .detail("code", refusal.code().code()))
                .map(v -> new Claim(Optional.empty(), Optional.of(refusal)));
    }

    /**
     * Runs the claimed action and records its outcome. A failure whose outcome is unknown (Stripe
     * did not answer in time) puts the action back to pending, so the requester may confirm again
     * with the same token before the deadline; the Stripe request then carries the same idempotency
     * key and cannot act twice. Any other failure is final.
     */
    private Future<JsonObject> perform(Stored a, Confirm c) {
        Future<Performed> done;
        try {
            done = effects.perform(a, c.staff());
        } catch (RuntimeException e) {
            done = Future.failedFuture(e);
        }
        return done.transform(ar -> {
            if (ar.succeeded()) {
                Performed p = ar.result();
                return db.asWorker(tx -> AdminActionsRepository.finish(tx, a.id(), "done", p.record())
                                .compose(v -> audit.append(
                                        tx,
                                        entry(
                                                        c.staff(),
                                                        c.client(),
                                                        a.accountId(),
                                                        "admin." + a.action().wire())
                                                .target("admin_action", a.id())
                                                .detail("params", a.params())
                                                .detail("result", p.record()))))
                        .map(v -> new JsonObject().put("result", p.reply()));
            }
            Throwable cause = ar.cause();
            boolean unknown = cause instanceof TimeoutException
                    || cause instanceof AppError e
                            && (e.code() == ErrorCode.STRIPE_UNAVAILABLE || e.code() == ErrorCode.SERVICE_UNAVAILABLE);
            AppError answer = cause instanceof AppError e ? e : AppError.of(ErrorCode.INTERNAL_ERROR);
            if (!(cause instanceof AppError)) {
                log.error("admin action {} ({}) failed", a.id(), a.action().wire(), cause);
            }
            JsonObject failure =
                    new JsonObject().put("code", answer.code().code()).put("detail", answer.detail());
            return db.asWorker(tx -> (unknown
                                    ? AdminActionsRepository.release(tx, a.id())
                                    : AdminActionsRepository.finish(tx, a.id(), "failed", failure))
                            .compose(v -> audit.append(
                                    tx,
                                    entry(c.staff(), c.client(), a.accountId(), "admin.action_failed")
                                            .target("admin_action", a.id())
                                            .detail("action", a.action().wire())
                                            .detail("code", answer.code().code())
                                            .detail("detail", answer.detail())
                                            .detail("retryable", unknown))))
                    .transform(recorded -> Future.<JsonObject>failedFuture(cause));
        });
    }

    // ------------------------------------------------------------------------------------ expiry

    /** Marks up to {@code limit} overdue pending actions expired, each with its audit entry; how many. */
    public Future<Integer> expireDue(int limit) {
        return db.asWorker(tx -> AdminActionsRepository.expireDue(tx, limit).compose(expired -> {
            Future<Void> chain = Future.succeededFuture();
            for (Stored a : expired) {
                chain = chain.compose(v -> audit.append(tx, expiry(a)));
            }
            return chain.map(v -> expired.size());
        }));
    }

    /**
     * Fails up to {@code limit} actions left performing longer than {@code after} (their instance
     * stopped mid-way), each with an {@code admin.action_failed} entry saying the outcome is unknown.
     */
    public Future<Integer> failStalled(int limit, java.time.Duration after) {
        return db.asWorker(
                tx -> AdminActionsRepository.failStalled(tx, limit, after).compose(stalled -> {
                    Future<Void> chain = Future.succeededFuture();
                    for (Stored a : stalled) {
                        chain = chain.compose(v -> audit.append(
                                tx,
                                AuditEntry.by(
                                                ActorType.OWNER,
                                                Optional.of(a.requestedBy()),
                                                a.accountId(),
                                                "admin.action_failed")
                                        .target("admin_action", a.id())
                                        .detail("action", a.action().wire())
                                        .detail("code", "interrupted")
                                        .detail("retryable", false)));
                    }
                    return chain.map(v -> stalled.size());
                }));
    }

    private static AuditEntry expiry(Stored a) {
        return AuditEntry.by(ActorType.OWNER, Optional.of(a.requestedBy()), a.accountId(), "admin.action_expired")
                .target("admin_action", a.id())
                .detail("action", a.action().wire());
    }

    // ------------------------------------------------------------------------------------ refusals

    private static AuditEntry entry(Principal staff, ClientInfo.Client client, Optional<UUID> account, String action) {
        return AuditEntry.by(ActorType.OWNER, Optional.of(staff.userId()), account, action)
                .from(client);
    }

    private static AuditEntry denial(
            Principal staff, ClientInfo.Client client, Optional<UUID> account, AppError refusal) {
        return entry(staff, client, account, "admin.denied")
                .detail("code", refusal.code().code());
    }

    /** A support member's action other than a sign-in link: 403 insufficient_role, recorded, nothing stored. */
    private <T> Future<T> denied(Principal staff, ClientInfo.Client client, Optional<UUID> account, String detail) {
        SecurityEvents.record(SecurityEvents.Event.ADMIN_DENIED);
        AppError refusal = AppError.of(ErrorCode.INSUFFICIENT_ROLE, detail);
        return db.asWorker(tx -> audit.append(tx, denial(staff, client, account, refusal)))
                .transform(ar -> Future.failedFuture(ar.succeeded() ? refusal : ar.cause()));
    }

    /** A request refused (invalid, unknown account, wrong state): recorded, then answered. */
    private <T> Future<T> refused(
            Principal staff, ClientInfo.Client client, Optional<UUID> account, Object asked, AppError refusal) {
        AuditEntry e = entry(staff, client, account, "admin.action_refused")
                .detail("action", asked instanceof String s && s.length() <= 40 ? s : null)
                .detail("code", refusal.code().code());
        return db.asWorker(tx -> audit.append(tx, e))
                .transform(ar -> Future.failedFuture(ar.succeeded() ? refusal : ar.cause()));
    }
}
