package uk.co.tradersflow.admin;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.util.List;
import java.util.UUID;
import uk.co.tradersflow.config.AppConfig;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.platform.db.Db;

/**
 * The admin area's read use cases, callable from the admin API, the console and jobs alike: the
 * accounts list and search, one account in detail, the audit log's reader and the business
 * figures. Callers have already established that the principal may read the admin area (owner
 * or support); the reads cross accounts through the worker role's definer functions.
 */
public final class AdminService {
    /** The window of the figures: signups per day, churn. */
    static final int ANALYTICS_DAYS = 30;

    private final AdminRepository repository;
    private final AppConfig.AuthSettings staff;
    private final Clock clock;

    public AdminService(Db db, AppConfig.AuthSettings staff, Clock clock) {
        this.repository = new AdminRepository(db);
        this.staff = staff;
        this.clock = clock;
    }

    /** A page of accounts, newest first; fetched one row long, for the page's next cursor. */
    public Future<List<AccountSummary>> accounts(AccountQuery query) {
        return repository.accounts(query);
    }

    /** 404 for an unknown id. */
    public Future<JsonObject> account(UUID id) {
        return repository.account(id).map(found -> found.orElseThrow(AppError::notFound)
                .toJson(this::role));
    }

    /** {@code {items, nextCursor}}, newest first. */
    public Future<JsonObject> audit(AuditQuery query) {
        return repository.audit(query).map(rows -> {
            List<AuditRecord> page = rows.size() > query.limit() ? rows.subList(0, query.limit()) : rows;
            io.vertx.core.json.JsonArray items = new io.vertx.core.json.JsonArray();
            page.forEach(r -> items.add(r.toJson()));
            return new JsonObject()
                    .put("items", items)
                    .put(
                            "nextCursor",
                            rows.size() > query.limit()
                                    ? AuditQuery.cursorAfter(
                                            page.get(page.size() - 1).id())
                                    : null);
        });
    }

    public Future<Analytics> analytics() {
        return repository.analytics(ANALYTICS_DAYS, clock.instant());
    }

    /** A user's role in the admin area, as the gate reads it from the current settings. */
    private String role(String email, boolean verified) {
        if (!verified) {
            return "user";
        }
        return staff.isOwnerEmail(email) ? "owner" : staff.isSupportEmail(email) ? "support" : "user";
    }
}
