package uk.co.tradersflow.billing;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.Optional;
import java.util.Set;
import uk.co.tradersflow.audit.AuditEntry;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.http.ClientInfo;
import uk.co.tradersflow.platform.http.PageRequest;
import uk.co.tradersflow.platform.security.ActorType;
import uk.co.tradersflow.platform.security.Principal;

/**
 * Owners' work on the Stripe event log: paging through it by status, and replaying an event that
 * failed or was ignored (audited; the event is handled again at once, by the webhook verticle the
 * replay's commit wakes). Callers have checked that the caller is an owner.
 */
public final class WebhookAdminService {
    private final Db db;
    private final StripeEventStore events;
    private final AuditLog audit;

    public WebhookAdminService(Db db, StripeEventStore events, AuditLog audit) {
        this.db = db;
        this.events = events;
        this.audit = audit;
    }

    /** One page of the log: events of {@code status} received before the cursor's position, newest first. */
    public record EventLogQuery(String status, OffsetDateTime before, String beforeId, int limit) {
        private static final Set<String> STATUSES = Set.of("pending", "processing", "processed", "ignored", "failed");

        /**
         * The query from the request's parameters, each optional: {@code status} (default failed),
         * {@code limit} as the contract has it (1–100, default 20), and {@code cursor}, an event
         * position (not PageRequest's); a bad one is 400 {@code malformed_request}.
         */
        public static EventLogQuery parse(String status, String limit, String cursor) {
            String wanted = Optional.ofNullable(status).orElse("failed");
            if (!STATUSES.contains(wanted)) {
                throw AppError.of(ErrorCode.MALFORMED_REQUEST, "status must be one of " + STATUSES);
            }
            int n = limit(limit);
            if (cursor == null || cursor.isEmpty()) {
                return new EventLogQuery(
                        wanted, OffsetDateTime.of(9999, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC), "\uffff", n);
            }
            try {
                String[] parts =
                        new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8).split("\\|", 2);
                return new EventLogQuery(wanted, OffsetDateTime.parse(parts[0]), parts[1], n);
            } catch (RuntimeException e) {
                throw AppError.of(ErrorCode.MALFORMED_REQUEST, "cursor is not valid");
            }
        }

        private static int limit(String param) {
            if (param == null) {
                return PageRequest.DEFAULT_LIMIT;
            }
            try {
                int n = Integer.parseInt(param);
                if (n >= 1 && n <= PageRequest.MAX_LIMIT) {
                    return n;
                }
            } catch (NumberFormatException e) {
                // falls through to the same answer as an out-of-range number
            }
            throw AppError.of(
                    ErrorCode.MALFORMED_REQUEST, "limit must be a whole number from 1 to " + PageRequest.MAX_LIMIT);
        }
    }

    /** An owner's request to handle {@code eventId} again. */
    public record Replay(String eventId, Principal owner, ClientInfo.Client client) {}

    /** {@code {"items": […], "nextCursor": …}}, as the contract has it. */
    public Future<JsonObject> list(EventLogQuery q) {
        return events.list(q.status(), q.before(), q.beforeId(), q.limit() + 1).map(rows -> {
            int limit = q.limit();
            JsonArray items = new JsonArray(rows.getList().subList(0, Math.min(limit, rows.size())));
            String next = null;
            if (rows.size() > limit) {
                JsonObject last = items.getJsonObject(limit - 1);
                String raw = OffsetDateTime.ofInstant(Instant.parse(last.getString("receivedAt")), ZoneOffset.UTC) + "|"
                        + last.getString("id");
                next = Base64.getUrlEncoder().withoutPadding().encodeToString(raw.getBytes(StandardCharsets.UTF_8));
            }
            return new JsonObject().put("items", items).put("nextCursor", next);
        });
    }

    /** Makes the event pending again; 404 when there is no such event, 409 when it is not failed or ignored. */
    public Future<Void> replay(Replay r) {
        String id = r.eventId();
        if (id == null || !id.matches("^evt_[A-Za-z0-9_]{1,200}$")) {
            return Future.failedFuture(AppError.notFound());
        }
        return db.asWorker(tx -> events.replay(tx, id).compose(result -> {
            if (result.isEmpty()) {
                return Future.failedFuture(AppError.notFound());
            }
            if (!result.get()) {
                return Future.failedFuture(
                        AppError.of(ErrorCode.CONFLICT, "Only failed or ignored events can be replayed"));
            }
            return audit.append(
                    tx,
                    AuditEntry.by(
                                    ActorType.OWNER,
                                    Optional.of(r.owner().userId()),
                                    Optional.empty(),
                                    "stripe.webhook_replayed")
                            .target("stripe_event", id)
                            .from(r.client()));
        }));
    }
}
