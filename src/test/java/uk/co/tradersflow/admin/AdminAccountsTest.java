package uk.co.tradersflow.admin;

import static io.vertx.core.http.HttpMethod.GET;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.Sql;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/** {@code GET /admin/api/accounts} (search, status, pages) and {@code GET /admin/api/accounts/{id}}. */
class AdminAccountsTest {
    static final String OWNER = "owner-" + UUID.randomUUID() + "@tradersflow.test";
    static final String SUPPORT = "support-" + UUID.randomUUID() + "@tradersflow.test";
    /** In every name and address this class makes, so its searches see only its own accounts. */
    static final String TAG = UUID.randomUUID().toString().substring(0, 8);

    static TestServer server;
    static TestUsers users;
    static TestUser owner;
    static TestUser support;
    static TestUser sparks;
    static TestUser pipes;
    static TestUser roofing;

    @RegisterExtension
    static final ServerExtension lifecycle = ServerExtension.with(
                    Map.of("TF_OWNER_EMAILS", OWNER, "TF_SUPPORT_EMAILS", SUPPORT, "TF_API_BURST", "1000"))
            .then(s -> server = s);

    @BeforeAll
    static void accounts() {
        users = new TestUsers(server);
        owner = users.create(OWNER, true);
        support = users.create(SUPPORT, true);
        OffsetDateTime now = OffsetDateTime.now();
        sparks = account("alice." + TAG + "@sparks.example", "Sparks " + TAG + " Electrical", now.minusHours(3));
        pipes = account("bob." + TAG + "@pipes.example", "Pipes " + TAG + " Plumbing", now.minusHours(2));
        roofing = account("carol." + TAG + "@roofs.example", "Roofing " + TAG + " 100% Ltd", now.minusHours(1));
        Sql.admin()
                .update(
                        "INSERT INTO billing_accounts (account_id, stripe_customer_id, subscription_id, subscription_status, "
                                + "stripe_status, trial_end, current_period_end, price_id, price_amount_pence, price_currency, "
                                + "price_interval, price_interval_count) VALUES (?, ?, ?, 'active', 'active', ?, ?, 'price_monthly', "
                                + "2500, 'gbp', 'month', 1)",
                        pipes.accountId(),
                        "cus_" + TAG,
                        "sub_" + TAG,
                        now.minusDays(10),
                        now.plusDays(20));
        users.setAccountStatus(roofing.accountId(), "suspended");
    }

    private static TestUser account(String email, String businessName, OffsetDateTime createdAt) {
        TestUser u = users.create(email, true);
        Sql.admin()
                .update(
                        "UPDATE accounts SET business_name = ?, created_at = ? WHERE id = ?",
                        businessName,
                        createdAt,
                        u.accountId());
        return u;
    }

    private static HttpResponse<Buffer> get(String path, TestUser who) {
        return server.send(GET, path, who.token());
    }

    private static JsonObject ok(String path) {
        HttpResponse<Buffer> r = get(path, owner);
        assertThat(r.statusCode()).as(path + ": " + r.bodyAsString()).isEqualTo(200);
        return r.bodyAsJsonObject();
    }

    private static String q(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    private static List<String> names(JsonObject page) {
        List<String> out = new ArrayList<>();
        page.getJsonArray("items").forEach(i -> out.add(((JsonObject) i).getString("businessName")));
        return out;
    }

    @Test
    void searchMatchesPartOfAUsersEmailOrTheBusinessNameInAnyCase() {
        assertThat(names(ok("/admin/api/accounts?query=" + TAG.toUpperCase())))
                .as("newest first")
                .containsExactly(
                        "Roofing " + TAG + " 100% Ltd", "Pipes " + TAG + " Plumbing", "Sparks " + TAG + " Electrical");
        assertThat(names(ok("/admin/api/accounts?query=" + q("sparks " + TAG.toUpperCase() + " elec"))))
                .containsExactly("Sparks " + TAG + " Electrical");
        assertThat(names(ok("/admin/api/accounts?query=" + q("  BOB." + TAG + "@PIPES  "))))
                .containsExactly("Pipes " + TAG + " Plumbing");
        // LIKE's wildcards in the search are plain characters.
        assertThat(names(ok("/admin/api/accounts?query=" + q(TAG + " 100%"))))
                .containsExactly("Roofing " + TAG + " 100% Ltd");
        assertThat(names(ok("/admin/api/accounts?query=" + q(TAG + " 1%0")))).isEmpty();
        assertThat(names(ok("/admin/api/accounts?query=" + q("Sp_rks " + TAG)))).isEmpty();

        JsonObject row =
                ok("/admin/api/accounts?query=bob." + TAG).getJsonArray("items").getJsonObject(0);
        assertThat(row.getString("id")).isEqualTo(pipes.accountId().toString());
        assertThat(row.getString("email")).isEqualTo("bob." + TAG + "@pipes.example");
        assertThat(row.getString("status")).isEqualTo("active");
        assertThat(row.getLong("users")).isEqualTo(1);
        assertThat(row.getJsonObject("subscription").getString("status")).isEqualTo("active");
        assertThat(row.getJsonObject("subscription").getString("currentPeriodEnd"))
                .isNotNull();
    }

    @Test
    void theStatusFilterTakesSubscriptionAndAccountStatuses() {
        assertThat(names(ok("/admin/api/accounts?status=active&query=" + TAG)))
                .containsExactly("Pipes " + TAG + " Plumbing");
        assertThat(names(ok("/admin/api/accounts?status=suspended&query=" + TAG)))
                .containsExactly("Roofing " + TAG + " 100% Ltd");
        assertThat(names(ok("/admin/api/accounts?status=none&query=" + TAG)))
                .containsExactly("Roofing " + TAG + " 100% Ltd", "Sparks " + TAG + " Electrical");
        assertThat(names(ok("/admin/api/accounts?status=past_due&query=" + TAG)))
                .isEmpty();
        JsonObject suspended = ok("/admin/api/accounts?status=suspended");
        suspended.getJsonArray("items").forEach(i -> assertThat(((JsonObject) i).getString("status"))
                .isEqualTo("suspended"));
    }

    @Test
    void pagesFollowTheCursorNewestFirstWithoutRepeatsOrGaps() {
        JsonObject first = ok("/admin/api/accounts?limit=2&query=" + TAG);
        assertThat(names(first)).containsExactly("Roofing " + TAG + " 100% Ltd", "Pipes " + TAG + " Plumbing");
        String cursor = first.getString("nextCursor");
        assertThat(cursor).isNotNull();
        JsonObject second = ok("/admin/api/accounts?limit=2&query=" + TAG + "&cursor=" + cursor);
        assertThat(names(second)).containsExactly("Sparks " + TAG + " Electrical");
        assertThat(second.getString("nextCursor")).isNull();

        // Without a search, the whole list pages the same way.
        JsonObject all = ok("/admin/api/accounts?limit=100");
        List<String> seen = new ArrayList<>();
        String next = null;
        do {
            JsonObject page = ok("/admin/api/accounts?limit=3" + (next == null ? "" : "&cursor=" + next));
            page.getJsonArray("items").forEach(i -> seen.add(((JsonObject) i).getString("id")));
            next = page.getString("nextCursor");
        } while (next != null && seen.size() < 100);
        List<String> allIds = new ArrayList<>();
        all.getJsonArray("items").forEach(i -> allIds.add(((JsonObject) i).getString("id")));
        assertThat(seen.subList(0, Math.min(seen.size(), allIds.size())))
                .isEqualTo(allIds.subList(0, Math.min(seen.size(), allIds.size())));
        assertThat(seen).doesNotHaveDuplicates();
    }

    @Test
    void badFiltersAre422WithTheFieldsNamedAndBadPagingIs400() {
        HttpResponse<Buffer> bad = get("/admin/api/accounts?status=gold&query=" + "x".repeat(201), owner);
        assertThat(bad.statusCode()).isEqualTo(422);
        assertThat(bad.bodyAsJsonObject().getString("code")).isEqualTo("validation_failed");
        JsonArray errors = bad.bodyAsJsonObject().getJsonArray("errors");
        assertThat(errors.stream().map(e -> ((JsonObject) e).getString("field")))
                .containsExactlyInAnyOrder("status", "query");
        assertThat(get("/admin/api/accounts?limit=0", owner).statusCode()).isEqualTo(400);
        assertThat(get("/admin/api/accounts?cursor=not-a-cursor", owner).statusCode())
                .isEqualTo(400);
    }

    @Test
    void theDetailShowsUsersSubscriptionRecentEmailsAndRecentAudit() {
        UUID account = pipes.accountId();
        for (int i = 0; i < 22; i++) {
            Sql.admin()
                    .update(
                            "INSERT INTO email_outbox (account_id, template, recipient, dedupe_key, status, created_at) "
                                    + "VALUES (?, 'invoice', ?, ?, 'sent', now() - ? * interval '1 minute')",
                            account,
                            "customer" + i + "@pipes.example",
                            "detail:" + UUID.randomUUID(),
                            22 - i);
            Sql.admin()
                    .update(
                            "INSERT INTO audit_log (account_id, actor_type, actor_id, action, ip, user_agent, details) "
                                    + "VALUES (?, 'user', ?, 'invoice.sent', '203.0.113.9', 'test-agent', ?::jsonb)",
                            account,
                            pipes.userId(),
                            new JsonObject().put("n", i).encode());
        }
        // A session an owner opened as this user (a sign-in link) is not the user's sign-in.
        Sql.admin()
                .update(
                        "INSERT INTO sessions (account_id, user_id, expires_at, created_at, impersonator_id) "
                                + "VALUES (?, ?, now() + interval '1 day', now() + interval '1 hour', ?)",
                        account,
                        pipes.userId(),
                        owner.userId());

        JsonObject detail = ok("/admin/api/accounts/" + account);
        assertThat(detail.getString("id")).isEqualTo(account.toString());
        assertThat(detail.getString("businessName")).isEqualTo("Pipes " + TAG + " Plumbing");
        assertThat(detail.getString("status")).isEqualTo("active");

        JsonObject sub = detail.getJsonObject("subscription");
        assertThat(sub.getString("status")).isEqualTo("active");
        assertThat(sub.getString("trialEnd")).isNotNull();
        assertThat(sub.getString("stripeCustomerId")).isEqualTo("cus_" + TAG);
        assertThat(sub.getString("stripeSubscriptionId")).isEqualTo("sub_" + TAG);
        assertThat(sub.getString("payingSince")).as("the paid period's trigger").isNotNull();
        assertThat(sub.getJsonObject("price").getMap())
                .containsEntry("id", "price_monthly")
                .containsEntry("amountPence", 2500)
                .containsEntry("currency", "GBP")
                .containsEntry("interval", "month")
                .containsEntry("monthlyPence", 2500);

        JsonArray users = detail.getJsonArray("users");
        assertThat(users).hasSize(1);
        JsonObject user = users.getJsonObject(0);
        assertThat(user.getString("id")).isEqualTo(pipes.userId().toString());
        assertThat(user.getString("email")).isEqualTo("bob." + TAG + "@pipes.example");
        assertThat(user.getBoolean("verified")).isTrue();
        assertThat(user.getString("role")).isEqualTo("user");
        assertThat(user.getString("createdAt")).isNotNull();
        String lastSignIn = user.getString("lastSignInAt");
        assertThat(lastSignIn).isNotNull();
        assertThat(java.time.Instant.parse(lastSignIn))
                .as("the impersonated session, an hour ahead, is not counted")
                .isBefore(java.time.Instant.now().plusSeconds(60));

        JsonArray emails = detail.getJsonArray("recentEmails");
        assertThat(emails).hasSize(20);
        assertThat(emails.getJsonObject(0).getString("recipient")).isEqualTo("customer21@pipes.example");
        assertThat(emails.getJsonObject(19).getString("recipient")).isEqualTo("customer2@pipes.example");

        JsonArray audit = detail.getJsonArray("recentAudit");
        assertThat(audit).hasSize(20);
        assertThat(audit.getJsonObject(0).getJsonObject("details").getInteger("n"))
                .isEqualTo(21);
        assertThat(audit.getJsonObject(0).getString("ip")).isEqualTo("203.0.113.9");
        assertThat(audit.getJsonObject(0).getString("actorId"))
                .isEqualTo(pipes.userId().toString());
        assertThat(audit.stream().map(a -> ((JsonObject) a).getString("accountId")))
                .containsOnly(account.toString());
    }

    @Test
    void theDetailNamesEachUsersAdminRoleFromTheCurrentSettings() {
        assertThat(ok("/admin/api/accounts/" + owner.accountId())
                        .getJsonArray("users")
                        .getJsonObject(0)
                        .getString("role"))
                .isEqualTo("owner");
        assertThat(ok("/admin/api/accounts/" + support.accountId())
                        .getJsonArray("users")
                        .getJsonObject(0)
                        .getString("role"))
                .isEqualTo("support");
        JsonObject sparksDetail = ok("/admin/api/accounts/" + sparks.accountId());
        assertThat(sparksDetail.getJsonObject("subscription").getString("status"))
                .isEqualTo("none");
        assertThat(sparksDetail.getJsonObject("subscription").getValue("price")).isNull();
        assertThat(sparksDetail.getJsonArray("recentEmails")).isEmpty();
    }

    /**
     * The reads cross accounts only as the worker role: the runtime role, which every request's
     * statements run as, may call none of the admin functions, whatever account it is scoped to.
     */
    @Test
    void onlyTheWorkerRoleMayCallTheAdminReads() throws SQLException {
        List<String> calls = List.of(
                "SELECT * FROM admin_accounts_page(NULL, NULL, NULL, 'infinity', gen_random_uuid(), 5)",
                "SELECT * FROM admin_account('" + pipes.accountId() + "')",
                "SELECT * FROM admin_account_users('" + pipes.accountId() + "')",
                "SELECT * FROM admin_audit_page(NULL, NULL, NULL, NULL, NULL, 9223372036854775807, 5)",
                "SELECT * FROM admin_signups_per_day(30)",
                "SELECT * FROM admin_status_counts()",
                "SELECT * FROM admin_mrr()",
                "SELECT * FROM admin_churn(30)");
        try (Connection app = server.env.asAppIn(sparks.accountId())) {
            for (String sql : calls) {
                assertThatThrownBy(() -> {
                            try (Statement s = app.createStatement()) {
                                s.execute(sql);
                            }
                        })
                        .as(sql)
                        .isInstanceOf(SQLException.class)
                        .hasMessageContaining("permission denied");
                app.rollback();
            }
        }
        try (Connection worker = server.env.asWorker();
                Statement s = worker.createStatement()) {
            for (String sql : calls) {
                s.execute(sql);
            }
        }
    }

    @Test
    void anUnknownOrMalformedIdIs404() {
        assertThat(get("/admin/api/accounts/" + UUID.randomUUID(), owner).statusCode())
                .isEqualTo(404);
        assertThat(get("/admin/api/accounts/not-a-uuid", owner).statusCode()).isEqualTo(404);
    }

    @Test
    void supportStaffReadTheListAndTheDetail() {
        assertThat(get("/admin/api/accounts?query=" + TAG, support).statusCode())
                .isEqualTo(200);
        assertThat(get("/admin/api/accounts/" + pipes.accountId(), support).statusCode())
                .isEqualTo(200);
    }
}
