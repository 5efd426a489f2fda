package uk.co.tradersflow.admin;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
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

    /** How often every instance's job offers to store the figures (FiguresRefreshVerticle). */
    static final Duration FIGURES_REFRESH = Duration.ofSeconds(30);

    /**
     * Figures younger than this are left alone by a job: with any number of instances, each
     * offering every {@link #FIGURES_REFRESH}, the summary is stored again before it is
     * {@code FIGURES_FRESH + FIGURES_REFRESH} old (30 s with one instance, under 50 s with many).
     */
    static final Duration FIGURES_FRESH = Duration.ofSeconds(20);

    /** The oldest figures served: past it they are computed for the request (the stated staleness). */
    public static final Duration FIGURES_MAX_AGE = Duration.ofSeconds(60);

    /** A refresh's budget: counting every account, far more than a request's unit of work. */
    private static final Duration FIGURES_BUDGET = Duration.ofSeconds(30);

    private final AdminRepository repository;
    private final AppConfig.AuthSettings staff;

    public AdminService(Db db, AppConfig.AuthSettings staff) {
        this.repository = new AdminRepository(db);
        this.staff = staff;
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

    /**
     * The business figures, as of their {@code generatedAt}: never more than {@link #FIGURES_MAX_AGE}
     * before the request (stored by every instance's job; computed for the request past that age).
     */
    public Future<Analytics> analytics() {
        return repository.analytics(ANALYTICS_DAYS, FIGURES_MAX_AGE);
    }

    /**
     * Stores the figures as they are now for {@link #analytics()} to serve, unless another instance
     * is doing so or did within {@link #FIGURES_FRESH}; answers whether this call stored them.
     */
    Future<Boolean> refreshFigures() {
        return repository.refreshFigures(ANALYTICS_DAYS, FIGURES_FRESH, FIGURES_BUDGET);
    }

    /** A user's role in the admin area, as the gate reads it from the current settings. */
    private String role(String email, boolean verified) {
        if (!verified) {
            return "user";
        }
        return staff.isOwnerEmail(email) ? "owner" : staff.isSupportEmail(email) ? "support" : "user";
    }
}
