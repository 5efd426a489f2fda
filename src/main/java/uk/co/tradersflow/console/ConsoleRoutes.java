package uk.co.tradersflow.console;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.Cookie;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.co.tradersflow.admin.AccountQuery;
import uk.co.tradersflow.admin.AccountSummary;
import uk.co.tradersflow.admin.AdminService;
import uk.co.tradersflow.admin.AuditQuery;
import uk.co.tradersflow.admin.actions.AdminActionsService;
import uk.co.tradersflow.admin.report.CsvReportService;
import uk.co.tradersflow.audit.AuditChain;
import uk.co.tradersflow.auth.AuthLimits;
import uk.co.tradersflow.auth.EmailAddress;
import uk.co.tradersflow.auth.SessionService;
import uk.co.tradersflow.auth.SessionState;
import uk.co.tradersflow.auth.SessionStateCache;
import uk.co.tradersflow.auth.SignInService;
import uk.co.tradersflow.billing.WebhookAdminService;
import uk.co.tradersflow.config.AppConfig;
import uk.co.tradersflow.email.EmailAdminService;
import uk.co.tradersflow.email.EmailLogEntry;
import uk.co.tradersflow.email.EmailLogQuery;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.error.FieldError;
import uk.co.tradersflow.platform.http.Api;
import uk.co.tradersflow.platform.http.ClientInfo;
import uk.co.tradersflow.platform.http.PageRequest;
import uk.co.tradersflow.platform.http.RouteModule;
import uk.co.tradersflow.platform.log.LogText;
import uk.co.tradersflow.platform.security.Principal;

/**
 * The owners' console at {@code /admin}: server-rendered pages over the admin area's own services,
 * behind the admin API's own gate. Each page's route runs the console session (cookie → the
 * session row's live state → the same {@link Principal} the bearer guard attaches), then the
 * API's per-user rate limit and the API's {@code OwnerGuard} itself, so the roles (owners,
 * support, 403 {@code Not an owner}) are decided by the one code path; then it calls the service
 * the matching {@code /admin/api} route calls. State-changing requests are posted forms checked
 * twice for CSRF: the request's {@code Origin} must be this server, and the form's token must be
 * the session's (synchronizer token, sealed in the cookie).
 */
final class ConsoleRoutes implements RouteModule {
    private static final Logger log = LoggerFactory.getLogger(ConsoleRoutes.class);
    private static final long MAX_FORM = 16 * 1024;
    /** The figures' time on the Analytics page: they are a summary up to a minute old. */
    private static final DateTimeFormatter AS_OF =
            DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneOffset.UTC);

    static final String SESSION_KEY = "tf.console";

    record Services(
            AdminService admin,
            AdminActionsService actions,
            AuditChain chain,
            EmailAdminService emails,
            WebhookAdminService webhooks,
            SignInService signIn,
            AuthLimits limits,
            SessionService sessions,
            SessionStateCache sessionStates,
            CsvReportService reports) {}

    private final Services services;
    private final ConsolePages pages;
    private final ConsoleCookie cookies;
    private final ConsoleIdle idle;
    private final AppConfig.AuthSettings roles;
    private final ClientInfo clients;
    private final Clock clock;

    ConsoleRoutes(
            Services services,
            ConsolePages pages,
            ConsoleCookie cookies,
            ConsoleIdle idle,
            AppConfig.AuthSettings roles,
            ClientInfo clients,
            Clock clock) {
        this.services = services;
        this.pages = pages;
        this.cookies = cookies;
        this.idle = idle;
        this.roles = roles;
        this.clients = clients;
        this.clock = clock;
    }

    @Override
    public void mount(Router router, Api api) {
        router.get("/admin/assets/:file").handler(pages::asset);
        router.get("/admin").handler(this::home);
        // The API's per-address sign-in budget (/api/v1/auth/login's, shared with it): each attempt
        // costs an Argon2id hash, and a fresh address each time is never locked out.
        router.post("/admin/sign-in")
                .handler(BodyHandler.create(false).setBodyLimit(MAX_FORM))
                .handler(services.limits().perIp("login", clients))
                .handler(this::sameOrigin)
                .handler(this::signIn)
                .failureHandler(this::failed);
        page(router, api, "/admin/accounts", this::accounts);
        page(router, api, "/admin/accounts/:id", this::account);
        page(router, api, "/admin/audit", this::audit);
        page(router, api, "/admin/analytics", this::analytics);
        page(router, api, "/admin/emails", this::emails);
        page(router, api, "/admin/webhooks", this::webhooks);
        form(router, api, "/admin/accounts/:id/actions", true, this::act);
        form(router, api, "/admin/webhooks/:eventId/replay", false, this::replay);
        form(router, api, "/admin/emails/:id/requeue", false, this::requeue);
        form(router, api, "/admin/exports", false, this::export);
        router.post("/admin/sign-out")
                .handler(BodyHandler.create(false).setBodyLimit(MAX_FORM))
                .handler(this::sameOrigin)
                .handler(this::session)
                .handler(this::formToken)
                .handler(this::signOut)
                .failureHandler(this::failed);
    }

    private void page(Router router, Api api, String path, Handler<RoutingContext> handler) {
        router.get(path)
                .handler(this::session)
                .handler(api.rateLimit())
                .handler(api.ownerGuard())
                .handler(handler)
                .failureHandler(this::failed);
    }

    /** A posted form: Origin and token first, then the same gate as a page (staff routes let support through to the service's own role check). */
    private void form(Router router, Api api, String path, boolean staff, Handler<RoutingContext> handler) {
        Route route = router.post(path)
                .handler(BodyHandler.create(false).setBodyLimit(MAX_FORM))
                .handler(this::sameOrigin)
                .handler(this::session)
                .handler(this::formToken)
                .handler(api.rateLimit());
        if (staff) {
            route.handler(ctx -> {
                ctx.put(Api.STAFF_ROUTE, Boolean.TRUE);
                ctx.next();
            });
        }
        route.handler(api.ownerGuard()).handler(handler).failureHandler(this::failed);
    }

    // ------------------------------------------------------------------------------ the guards

    /**
     * The console's session: the sealed cookie, within its idle and absolute limits, naming a
     * session the servers saw used within the idle limit ({@link ConsoleIdle}, on any instance)
     * and whose row is still live, for an account that may act (as the bearer guard decides).
     * Attaches the {@link Principal} and re-issues the cookie with this use's time.
     */
    private void session(RoutingContext ctx) {
        Cookie cookie = ctx.request().getCookie(ConsoleCookie.NAME);
        var now = clock.instant();
        Optional<ConsoleCookie.Value> value = cookie == null
                ? Optional.empty()
                : cookies.unseal(cookie.getValue()).filter(v -> v.liveAt(now));
        if (value.isEmpty()) {
            ctx.fail(AppError.of(ErrorCode.UNAUTHORIZED, "Sign in to the console"));
            return;
        }
        ConsoleCookie.Value v = value.get();
        idle.touch(v.sessionId())
                .compose(live -> live
                        ? services.sessionStates().get(v.sessionId())
                        : Future.failedFuture(
                                AppError.of(ErrorCode.INVALID_TOKEN, "The console was idle too long; sign in again")))
                .onFailure(ctx::fail)
                .onSuccess(state -> {
                    if (state.isEmpty() || !state.get().live() || !state.get().accountActive()) {
                        ctx.fail(AppError.of(ErrorCode.INVALID_TOKEN, "This session has ended; sign in again"));
                        return;
                    }
                    SessionState s = state.get();
                    new Principal(
                                    s.userId(),
                                    s.accountId(),
                                    s.sessionId(),
                                    s.email(),
                                    s.emailVerified(),
                                    s.impersonatorId())
                            .attach(ctx);
                    ctx.put(SESSION_KEY, v);
                    ctx.response().putHeader("Set-Cookie", ConsoleCookie.header(cookies.seal(v.seenAt(now))));
                    ctx.next();
                });
    }

    /** Every state-changing request must come from a page of this origin (browsers always send Origin on POST). */
    private void sameOrigin(RoutingContext ctx) {
        String origin = ctx.request().getHeader("Origin");
        String self = "https://" + ctx.request().authority();
        if (origin == null || !origin.equalsIgnoreCase(self)) {
            log.warn(
                    "console form refused: cross-origin request ({})",
                    origin == null ? "no Origin" : LogText.printable(origin));
            ctx.fail(AppError.of(ErrorCode.FORBIDDEN, "Cross-origin request refused"));
            return;
        }
        ctx.next();
    }

    /** The synchronizer token: the form's must be this session's. */
    private void formToken(RoutingContext ctx) {
        ConsoleCookie.Value v = ctx.get(SESSION_KEY);
        String sent = ctx.request().getFormAttribute("csrf");
        if (sent == null
                || !java.security.MessageDigest.isEqual(
                        sent.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                        v.csrf().getBytes(java.nio.charset.StandardCharsets.UTF_8))) {
            ctx.fail(AppError.of(ErrorCode.FORBIDDEN, "The form has expired; reload the page"));
            return;
        }
        ctx.next();
    }

    /** Errors as pages: signed out → the sign-in page; a refusal by the gate → 403 "Not an owner"; anything else its status and detail. */
    private void failed(RoutingContext ctx) {
        if (ctx.response().ended()) {
            return;
        }
        Throwable failure = ctx.failure();
        if (!(failure instanceof AppError e)) {
            if (failure != null || ctx.statusCode() >= 500) {
                ctx.next();
                return;
            }
            pages.send(ctx, ctx.statusCode(), pages.message(ctx, "Not found", "There is no such page."));
            return;
        }
        int status = e.code().status();
        e.putLimitHeadersOn(ctx.response());
        if (status == 401) {
            ctx.response().putHeader("Set-Cookie", ConsoleCookie.cleared());
            pages.send(ctx, 401, pages.signIn(Optional.of(e.detail()), ""));
        } else if (e.code() == ErrorCode.NOT_OWNER) {
            pages.send(ctx, 403, pages.notOwner(csrfOf(ctx)));
        } else {
            pages.send(ctx, status, pages.message(ctx, e.code().title(), e.detail()));
        }
    }

    // ------------------------------------------------------------------------------ sign-in, sign-out

    private void home(RoutingContext ctx) {
        Cookie cookie = ctx.request().getCookie(ConsoleCookie.NAME);
        boolean signedIn = cookie != null
                && cookies.unseal(cookie.getValue())
                        .filter(v -> v.liveAt(clock.instant()))
                        .isPresent();
        if (signedIn) {
            redirect(ctx, "/admin/accounts");
        } else {
            pages.send(ctx, 200, pages.signIn(Optional.empty(), ""));
        }
    }

    /** The API's sign-in itself (its throttle, lockout, audit and alerts), then the console's cookie. */
    private void signIn(RoutingContext ctx) {
        String email = Optional.ofNullable(ctx.request().getFormAttribute("email"))
                .orElse("")
                .trim();
        String password =
                Optional.ofNullable(ctx.request().getFormAttribute("password")).orElse("");
        EmailAddress address = EmailAddress.of(email);
        if (!address.wellFormed() || password.isEmpty()) {
            pages.send(ctx, 422, pages.signIn(Optional.of("Enter your email address and password."), email));
            return;
        }
        services.signIn()
                .signIn(new SignInService.SignIn(address, password, Optional.empty(), clients.of(ctx)))
                .compose(tokens -> idle.open(tokens.sessionId()).map(tokens))
                .onSuccess(tokens -> {
                    ConsoleCookie.Value v = cookies.open(tokens.sessionId(), clock.instant());
                    ctx.response().putHeader("Set-Cookie", ConsoleCookie.header(cookies.seal(v)));
                    redirect(ctx, "/admin/accounts");
                })
                .onFailure(e -> {
                    if (e instanceof AppError refusal) {
                        refusal.putLimitHeadersOn(ctx.response());
                        pages.send(ctx, refusal.code().status(), pages.signIn(Optional.of(refusal.detail()), email));
                    } else {
                        ctx.fail(e);
                    }
                });
    }

    private void signOut(RoutingContext ctx) {
        Principal me = Principal.of(ctx);
        services.sessions()
                .signOut(me, clients.of(ctx))
                // The session row is what refuses the cookie now; the record only goes with it.
                .compose(v -> idle.close(me.sessionId()).otherwiseEmpty())
                .onFailure(ctx::fail)
                .onSuccess(v -> {
                    ctx.response().headers().remove("Set-Cookie");
                    ctx.response().putHeader("Set-Cookie", ConsoleCookie.cleared());
                    redirect(ctx, "/admin");
                });
    }

    // ------------------------------------------------------------------------------ pages

    private void accounts(RoutingContext ctx) {
        PageRequest page = PageRequest.of(ctx);
        String query = Optional.ofNullable(ctx.request().getParam("query")).orElse("");
        AccountQuery q = AccountQuery.of(page, query, ctx.request().getParam("status"));
        render(ctx, services.admin().accounts(q).map(rows -> {
            JsonObject reply = page.reply(rows, AccountSummary::toJson, s -> positionOf(s));
            Map<String, Object> m = model(ctx, "Accounts");
            m.put("query", query);
            m.put("accounts", plain(reply.getJsonArray("items")));
            m.put("reports", List.of("accounts", "subscriptions", "emails", "audit"));
            m.put("next", nextLink("/admin/accounts?query=" + enc(query) + "&cursor=", reply.getString("nextCursor")));
            return pages.render("accounts", m);
        }));
    }

    private static PageRequest.Position positionOf(AccountSummary s) {
        return new PageRequest.Position(s.createdAt(), s.id());
    }

    private void account(RoutingContext ctx) {
        UUID id = Api.pathId(ctx, "id");
        render(ctx, accountPage(ctx, id, Optional.empty(), Optional.empty()));
    }

    private Future<Buffer> accountPage(RoutingContext ctx, UUID id, Optional<String> result, Optional<AppError> error) {
        return services.admin().account(id).map(detail -> {
            String business = detail.getString("businessName");
            Map<String, Object> m = model(ctx, business);
            m.put("account", plain(detail));
            m.put("accountId", id.toString());
            result.ifPresent(r -> m.put("result", r));
            error.ifPresent(e -> {
                m.put("error", e.detail());
                List<Object> fields = new ArrayList<>();
                for (FieldError f : e.fieldErrors()) {
                    fields.add(Map.of("field", f.field(), "message", f.message()));
                }
                m.put("fieldErrors", fields);
                m.put("hasFieldErrors", !fields.isEmpty());
            });
            Optional<ActionDialogs.Refusal> refused = error.map(e -> new ActionDialogs.Refusal(
                    Optional.ofNullable(ctx.request().getFormAttribute("action"))
                            .orElse(""),
                    typed(ctx),
                    e.fieldErrors()));
            m.put("dialogs", ActionDialogs.model(business, Boolean.TRUE.equals(m.get("owner")), refused));
            return pages.render("account", m);
        });
    }

    /** What the owner typed in the dialog's inputs (never the form token), to give back after a refusal. */
    private static Map<String, String> typed(RoutingContext ctx) {
        Map<String, String> typed = new LinkedHashMap<>();
        ctx.request().formAttributes().forEach(e -> {
            if (!e.getKey().equals("csrf") && !e.getKey().equals("action")) {
                typed.putIfAbsent(e.getKey(), e.getValue());
            }
        });
        return typed;
    }

    /** The dialog's Confirm: the API's two steps, request then confirm, with the token the first returned. */
    private void act(RoutingContext ctx) {
        UUID id = Api.pathId(ctx, "id");
        Principal me = Principal.of(ctx);
        var form = ctx.request().formAttributes();
        String action = Optional.ofNullable(form.get("action")).orElse("");
        JsonObject params = new JsonObject();
        putIfPresent(params, "reason", form.get("reason"));
        putNumber(params, "days", form.get("days"));
        putIfPresent(params, "paymentIntentId", form.get("paymentIntentId"));
        putNumber(params, "amountPence", form.get("amountPence"));
        JsonObject body = new JsonObject()
                .put("action", action)
                .put("accountId", id.toString())
                .put("params", params);
        ClientInfo.Client client = clients.of(ctx);
        Future<JsonObject> done = services.actions()
                .request(new AdminActionsService.Request(me, client, body))
                .compose(proposed -> services.actions()
                        .confirm(new AdminActionsService.Confirm(
                                proposed.id(), Optional.of(proposed.confirmationToken()), me, client)));
        answer(
                ctx,
                done,
                result -> accountPage(ctx, id, Optional.of(describe(action, result)), Optional.empty()),
                refusal -> accountPage(ctx, id, Optional.empty(), Optional.of(refusal)));
    }

    /**
     * A form's answer as a page: with the result, or with a refusal the owner can act on (a 4xx,
     * its status kept) shown where it happened; anything else fails as every page does.
     */
    private <T> void answer(
            RoutingContext ctx,
            Future<T> done,
            java.util.function.Function<T, Future<Buffer>> result,
            java.util.function.Function<AppError, Future<Buffer>> refused) {
        done.transform(ar -> {
                    if (ar.succeeded()) {
                        return result.apply(ar.result()).map(html -> Map.entry(200, html));
                    }
                    if (ar.cause() instanceof AppError e
                            && e.code().status() < 500
                            && e.code() != ErrorCode.NOT_OWNER) {
                        return refused.apply(e).map(html -> Map.entry(e.code().status(), html));
                    }
                    return Future.failedFuture(ar.cause());
                })
                .onFailure(ctx::fail)
                .onSuccess(r -> pages.send(ctx, r.getKey(), r.getValue()));
    }

    private static String describe(String action, JsonObject result) {
        String done =
                switch (action) {
                    case "suspend" -> "Account suspended.";
                    case "reinstate" -> "Account reinstated.";
                    case "refund" -> "Refund made.";
                    case "extend_trial" -> "Trial extended.";
                    case "signin_link" -> "Sign-in link sent.";
                    default -> "Done.";
                };
        return done;
    }

    /**
     * {@code Export}: the {@code export_report} action requested and confirmed, then its one-time
     * download spent at once and streamed back as the answer to this form (a CSV attachment).
     */
    private void export(RoutingContext ctx) {
        Principal me = Principal.of(ctx);
        ClientInfo.Client client = clients.of(ctx);
        JsonObject body = new JsonObject()
                .put("action", "export_report")
                .put(
                        "params",
                        new JsonObject()
                                .put(
                                        "report",
                                        Optional.ofNullable(ctx.request().getFormAttribute("report"))
                                                .orElse("")));
        services.actions()
                .request(new AdminActionsService.Request(me, client, body))
                .compose(proposed -> services.actions()
                        .confirm(new AdminActionsService.Confirm(
                                proposed.id(), Optional.of(proposed.confirmationToken()), me, client)))
                .compose(done -> {
                    JsonObject result = done.getJsonObject("result", done);
                    java.net.URI url = java.net.URI.create(result.getString("url"));
                    String path = url.getPath();
                    UUID id = UUID.fromString(path.substring(path.lastIndexOf('/') + 1));
                    String token = url.getQuery().substring("token=".length());
                    return services.reports().claim(id, token, me, client);
                })
                .onFailure(ctx::fail)
                .onSuccess(d -> {
                    var response = ctx.response()
                            .setStatusCode(200)
                            .setChunked(true)
                            .putHeader("Content-Type", "text/csv; charset=utf-8; header=present")
                            .putHeader("Content-Disposition", "attachment; filename=\"" + d.filename() + "\"");
                    io.vertx.core.Promise<Void> gone = io.vertx.core.Promise.promise();
                    response.closeHandler(v -> gone.tryComplete());
                    services.reports().stream(d.report(), response, gone.future())
                            .onComplete(streamed -> {
                                if (streamed.succeeded()) {
                                    response.end();
                                } else if (!gone.future().isComplete()) {
                                    // The status is sent: a truncated file must not look complete.
                                    response.reset();
                                }
                            });
                });
    }

    private void audit(RoutingContext ctx) {
        var p = ctx.request();
        String accountId = Optional.ofNullable(p.getParam("accountId")).orElse("");
        String action = Optional.ofNullable(p.getParam("action")).orElse("");
        AuditQuery query = AuditQuery.of(new AuditQuery.Params(
                blankToNull(accountId), blankToNull(action), null, null, null, p.getParam("cursor"), null));
        boolean verify = "1".equals(p.getParam("verify"));
        Future<Optional<AuditChain.Verification>> checked =
                verify ? services.chain().verify().map(Optional::of) : Future.succeededFuture(Optional.empty());
        render(ctx, checked.compose(v -> services.admin().audit(query).map(reply -> {
            Map<String, Object> m = model(ctx, "Audit log");
            m.put("accountId", accountId);
            m.put("actionFilter", action);
            m.put("entries", plain(reply.getJsonArray("items")));
            m.put(
                    "next",
                    nextLink(
                            "/admin/audit?accountId=" + enc(accountId) + "&action=" + enc(action) + "&cursor=",
                            reply.getString("nextCursor")));
            v.ifPresent(r -> m.put("verification", verdict(r)));
            return pages.render("audit", m);
        })));
    }

    /** The contract's words: "Chain intact" and the count, or "Chain broken at" the first broken entry. */
    static String verdict(AuditChain.Verification r) {
        if (r.ok()) {
            return "Chain intact: " + r.checked() + " entries checked";
        }
        String where = r.firstBrokenId()
                .map(id -> "entry " + id)
                .or(() -> r.truncatedAfter().map(id -> "the entries after " + id + " (truncated)"))
                .or(() -> r.rewrittenBefore().map(id -> "entry " + id + " (rewritten before a checkpoint)"))
                .or(() -> r.checkpoints().firstForged().map(c -> "checkpoint " + c + " (forged)"))
                .orElse("an unknown entry");
        return "Chain broken at " + where + " (" + r.checked() + " entries checked)";
    }

    private void analytics(RoutingContext ctx) {
        render(ctx, services.admin().analytics().map(a -> {
            Map<String, Object> m = model(ctx, "Analytics");
            JsonObject json = a.toJson();
            m.put("signupsChart", Charts.signups(a.signups()));
            m.put("statusChart", Charts.statuses(json.getJsonObject("subscriptions")));
            m.put("mrr", Charts.pounds(json.getLong("mrrPence")));
            m.put(
                    "churn",
                    String.format(
                            java.util.Locale.ROOT,
                            "%.1f%%",
                            json.getJsonObject("churn").getDouble("rate") * 100));
            m.put(
                    "churnDetail",
                    json.getJsonObject("churn").getLong("cancelled") + " of "
                            + json.getJsonObject("churn").getLong("payingAtStart")
                            + " paying subscriptions cancelled in "
                            + a.windowDays() + " days");
            m.put("signupsTotal", json.getJsonObject("signups").getLong("total"));
            m.put("asOf", AS_OF.format(a.generatedAt()));
            m.put("asOfIso", a.generatedAt().toString());
            m.put("maxAgeSeconds", AdminService.FIGURES_MAX_AGE.toSeconds());
            return pages.render("analytics", m);
        }));
    }

    private void emails(RoutingContext ctx) {
        render(ctx, emailsPage(ctx, EmailFilters.of(ctx), PageRequest.of(ctx), Optional.empty(), Optional.empty()));
    }

    /** The email log's filters, read from the query string or carried back by a requeue form. */
    private record EmailFilters(String recipient, String status) {
        static EmailFilters of(RoutingContext ctx) {
            var p = ctx.request();
            String recipient = p.getParam("recipient");
            String status = p.getParam("status");
            if (recipient == null && status == null && p.method() == io.vertx.core.http.HttpMethod.POST) {
                recipient = p.getFormAttribute("recipient");
                status = p.getFormAttribute("status");
            }
            return new EmailFilters(
                    Optional.ofNullable(recipient).orElse(""),
                    Optional.ofNullable(status).orElse(""));
        }
    }

    private Future<Buffer> emailsPage(
            RoutingContext ctx,
            EmailFilters filters,
            PageRequest page,
            Optional<String> result,
            Optional<String> error) {
        EmailLogQuery query = EmailLogQuery.of(page, blankToNull(filters.recipient()), blankToNull(filters.status()));
        return services.emails()
                .health()
                .compose(health -> services.emails().log(query).map(rows -> {
                    JsonObject reply = page.reply(rows, EmailLogEntry::toJson, EmailLogEntry::position);
                    Map<String, Object> m = model(ctx, "Emails");
                    // Not "recipient"/"status": inside a row those names are the message's own.
                    m.put("recipientFilter", filters.recipient());
                    m.put("statusFilter", filters.status());
                    m.put("health", plain(health.toJson()));
                    List<Object> emails = new ArrayList<>();
                    for (Object item : reply.getJsonArray("items")) {
                        @SuppressWarnings("unchecked")
                        Map<String, Object> row = (Map<String, Object>) plain(item);
                        row.put("failed", "failed".equals(row.get("status")));
                        row.put("hasEvents", !((List<?>) row.get("events")).isEmpty());
                        emails.add(row);
                    }
                    m.put("emails", emails);
                    result.ifPresent(r -> m.put("result", r));
                    error.ifPresent(e -> m.put("error", e));
                    m.put(
                            "next",
                            nextLink(
                                    "/admin/emails?recipient=" + enc(filters.recipient()) + "&status="
                                            + enc(filters.status()) + "&cursor=",
                                    reply.getString("nextCursor")));
                    return pages.render("emails", m);
                }));
    }

    /** {@code Requeue}: the service the API's requeue calls (owners only, audited), then the log again with the outcome. */
    private void requeue(RoutingContext ctx) {
        UUID id = Api.pathId(ctx, "id");
        EmailFilters filters = EmailFilters.of(ctx);
        PageRequest first = PageRequest.of(ctx);
        answer(
                ctx,
                services.emails().requeue(Principal.of(ctx), clients.of(ctx), id),
                queued -> emailsPage(
                        ctx, filters, first, Optional.of("Email " + queued + " is queued again."), Optional.empty()),
                refusal -> emailsPage(ctx, filters, first, Optional.empty(), Optional.of(refusal.detail())));
    }

    private void webhooks(RoutingContext ctx) {
        WebhookAdminService.EventLogQuery q = WebhookAdminService.EventLogQuery.parse(
                "failed", null, ctx.request().getParam("cursor"));
        render(ctx, services.webhooks().list(q).map(reply -> webhooksPage(ctx, reply, Optional.empty())));
    }

    private Buffer webhooksPage(RoutingContext ctx, JsonObject reply, Optional<String> result) {
        Map<String, Object> m = model(ctx, "Webhooks");
        m.put("events", plain(reply.getJsonArray("items")));
        m.put("next", nextLink("/admin/webhooks?cursor=", reply.getString("nextCursor")));
        result.ifPresent(r -> m.put("result", r));
        return pages.render("webhooks", m);
    }

    private void replay(RoutingContext ctx) {
        String eventId = ctx.pathParam("eventId");
        services.webhooks()
                .replay(new WebhookAdminService.Replay(eventId, Principal.of(ctx), clients.of(ctx)))
                .compose(v -> services.webhooks()
                        .list(WebhookAdminService.EventLogQuery.parse("failed", null, null))
                        .map(reply ->
                                webhooksPage(ctx, reply, Optional.of("Event " + eventId + " queued for replay."))))
                .onFailure(ctx::fail)
                .onSuccess(html -> pages.send(ctx, 200, html));
    }

    // ------------------------------------------------------------------------------ helpers

    private Map<String, Object> model(RoutingContext ctx, String title) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("title", title);
        m.put("csrf", csrfOf(ctx));
        m.put("signedIn", true);
        Principal me = Principal.of(ctx);
        m.put("owner", roles.isOwnerEmail(me.email()));
        m.put("me", me.email());
        return m;
    }

    private static String csrfOf(RoutingContext ctx) {
        ConsoleCookie.Value v = ctx.get(SESSION_KEY);
        return v == null ? "" : v.csrf();
    }

    private void render(RoutingContext ctx, Future<Buffer> html) {
        html.onFailure(ctx::fail).onSuccess(b -> pages.send(ctx, 200, b));
    }

    private static void redirect(RoutingContext ctx, String to) {
        ctx.response().setStatusCode(303).putHeader("Location", to).end();
    }

    private static Optional<Map<String, String>> nextLink(String prefix, String cursor) {
        return cursor == null ? Optional.empty() : Optional.of(Map.of("href", prefix + enc(cursor)));
    }

    private static String enc(String s) {
        return java.net.URLEncoder.encode(s == null ? "" : s, java.nio.charset.StandardCharsets.UTF_8);
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.trim();
    }

    private static void putIfPresent(JsonObject o, String key, String value) {
        if (value != null && !value.isBlank()) {
            o.put(key, value.trim());
        }
    }

    /** A number field: sent as a number when it is one, as typed otherwise (the service names the field). */
    private static void putNumber(JsonObject o, String key, String value) {
        if (value == null || value.isBlank()) {
            return;
        }
        try {
            o.put(key, Long.parseLong(value.trim()));
        } catch (NumberFormatException e) {
            o.put(key, value.trim());
        }
    }

    /** JSON as plain maps and lists, which Mustache walks (a JsonObject is itself iterable). */
    static Object plain(Object value) {
        if (value instanceof JsonObject o) {
            Map<String, Object> m = new LinkedHashMap<>();
            o.forEach(e -> m.put(e.getKey(), plain(e.getValue())));
            return m;
        }
        if (value instanceof JsonArray a) {
            List<Object> l = new ArrayList<>();
            a.forEach(v -> l.add(plain(v)));
            return l;
        }
        return value;
    }
}
