package uk.co.tradersflow.admin.report;

import static io.vertx.core.http.HttpMethod.GET;
import static io.vertx.core.http.HttpMethod.HEAD;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.net.URI;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.platform.security.Principal;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.Sql;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/**
 * The owners' CSV reports: prepared once for one owner, downloaded once as streamed CSV, every
 * report's columns, quoting and formula prefix, pages joined without loss, and every refusal.
 */
class ReportExportTest {
    static final String OWNER = "owner-" + UUID.randomUUID() + "@tradersflow.test";
    static final String OTHER_OWNER = "owner2-" + UUID.randomUUID() + "@tradersflow.test";
    static final String SUPPORT = "support-" + UUID.randomUUID() + "@tradersflow.test";
    static TestServer server;
    static TestUsers users;
    static CsvReportService reports;
    static TestUser owner;
    static TestUser otherOwner;
    static TestUser support;

    @RegisterExtension
    static final ServerExtension lifecycle = ServerExtension.with(
                    Map.of("TF_OWNER_EMAILS", OWNER + "," + OTHER_OWNER, "TF_SUPPORT_EMAILS", SUPPORT))
            .then(s -> {
                server = s;
                users = new TestUsers(s);
                owner = users.create(OWNER, true);
                otherOwner = users.create(OTHER_OWNER, true);
                support = users.create(SUPPORT, true);
                reports = new CsvReportService(
                        s.config.auth(),
                        s.config.links().publicUrl().toString(),
                        s.main.db(),
                        new AuditLog(s.vertx.eventBus()));
            });

    private static Principal principal(TestUser u) {
        return new Principal(u.userId(), u.accountId(), u.sessionId(), u.email(), true, Optional.empty());
    }

    private static JsonObject prepare(String report, TestUser who) {
        return TestServer.await(reports.prepare(UUID.randomUUID(), report, principal(who)));
    }

    private static String pathOf(JsonObject prepared) {
        assertThat(prepared.getString("url")).startsWith(server.config.links().publicUrl() + "/admin/api/exports/");
        URI url = URI.create(prepared.getString("url"));
        return url.getRawPath() + "?" + url.getRawQuery();
    }

    private static HttpResponse<Buffer> download(String path, TestUser who) {
        return TestServer.await(server.request(GET, path, who.token()).send());
    }

    private static List<List<String>> csv(HttpResponse<Buffer> r) {
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
        assertThat(r.getHeader("Content-Type")).startsWith("text/csv");
        assertThat(r.getHeader("Content-Disposition")).startsWith("attachment; filename=\"tradersflow-");
        return parse(r.bodyAsString());
    }

    /** An RFC 4180 reader: rows end with CRLF, quoted cells may hold commas, quotes (doubled) and line breaks. */
    static List<List<String>> parse(String text) {
        List<List<String>> rows = new ArrayList<>();
        List<String> row = new ArrayList<>();
        StringBuilder cell = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (quoted) {
                if (c == '"' && i + 1 < text.length() && text.charAt(i + 1) == '"') {
                    cell.append('"');
                    i++;
                } else if (c == '"') {
                    quoted = false;
                } else {
                    cell.append(c);
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c == ',') {
                row.add(cell.toString());
                cell.setLength(0);
            } else if (c == '\r' && i + 1 < text.length() && text.charAt(i + 1) == '\n') {
                row.add(cell.toString());
                cell.setLength(0);
                rows.add(row);
                row = new ArrayList<>();
                i++;
            } else {
                cell.append(c);
            }
        }
        assertThat(row).as("the file ends with CRLF").isEmpty();
        assertThat(cell).isEmpty();
        return rows;
    }

    private static List<String> rowWith(List<List<String>> rows, String firstCell) {
        return rows.stream().filter(r -> r.get(0).equals(firstCell)).findFirst().orElseThrow();
    }

    @Test
    void anAccountsReportIsDownloadedOnceByItsOwnerWithHostileCellsDefused() {
        TestUser customer = users.create();
        Sql.admin()
                .update(
                        "UPDATE accounts SET business_name = ? WHERE id = ?",
                        "=HYPERLINK(\"http://evil\",\"Click\"), Ltd",
                        customer.accountId());
        JsonObject prepared = prepare("accounts", owner);
        assertThat(prepared.getString("report")).isEqualTo("accounts");
        assertThat(Instant.parse(prepared.getString("expiresAt")))
                .isBetween(Instant.now().plusSeconds(14 * 60), Instant.now().plusSeconds(15 * 60 + 5));
        String path = pathOf(prepared);

        HttpResponse<Buffer> first = download(path, owner);
        List<List<String>> rows = csv(first);
        assertThat(rows.get(0))
                .containsExactly(
                        "id", "businessName", "status", "ownerEmail", "subscriptionStatus", "createdAt", "closedAt");
        List<String> row = rowWith(rows, customer.accountId().toString());
        assertThat(row.get(1)).isEqualTo("'=HYPERLINK(\"http://evil\",\"Click\"), Ltd");
        assertThat(row.get(2)).isEqualTo("active");
        assertThat(row.get(3)).isEqualTo(customer.email());
        assertThat(row.get(4)).isEqualTo("none");
        assertThat(first.bodyAsString()).contains("\"'=HYPERLINK(\"\"http://evil\"\",\"\"Click\"\"), Ltd\"");
        assertThat(rows).hasSize(1 + (int) Sql.admin().count("SELECT count(*) FROM accounts"));

        HttpResponse<Buffer> again = download(path, owner);
        assertThat(again.statusCode()).isEqualTo(403);
        assertThat(again.bodyAsJsonObject().getString("code")).isEqualTo("signed_url_invalid");
    }

    @Test
    void anotherOwnerSupportAndAWrongTokenAreRefusedWithoutSpendingTheDownload() {
        String path = pathOf(prepare("accounts", owner));
        HttpResponse<Buffer> other = download(path, otherOwner);
        assertThat(other.statusCode()).isEqualTo(403);
        assertThat(other.bodyAsJsonObject().getString("code")).isEqualTo("signed_url_invalid");
        assertThat(download(path, support).statusCode()).isEqualTo(403);
        String wrongToken = path.substring(0, path.indexOf("token=") + 6) + "tfx_" + "B".repeat(43);
        assertThat(download(wrongToken, owner).statusCode()).isEqualTo(403);
        assertThat(download(path.substring(0, path.indexOf('?')), owner).statusCode())
                .isEqualTo(403);
        assertThat(TestServer.await(server.request(HEAD, path, owner.token()).send())
                        .statusCode())
                .isEqualTo(200);
        assertThat(download(path, owner).statusCode()).isEqualTo(200);
        assertThat(TestServer.await(server.request(HEAD, path, owner.token()).send())
                        .statusCode())
                .isEqualTo(403);
    }

    @Test
    void theDownloadRouteRefusesAnonymousAndPlainUsersAndAnUnknownIdIsRefused() {
        String path = pathOf(prepare("emails", owner));
        assertThat(TestServer.await(server.request(GET, path).send()).statusCode())
                .isEqualTo(401);
        HttpResponse<Buffer> plain = download(path, users.create());
        assertThat(plain.statusCode()).isEqualTo(403);
        assertThat(plain.bodyAsJsonObject().getString("code")).isEqualTo("not_owner");
        assertThat(download("/admin/api/exports/" + UUID.randomUUID() + "?token=tfx_x", owner)
                        .statusCode())
                .isEqualTo(403);
        assertThat(download("/admin/api/exports/not-a-uuid?token=tfx_x", owner).statusCode())
                .isEqualTo(404);
        assertThat(download(path, owner).statusCode()).isEqualTo(200);
    }

    @Test
    void anExpiredDownloadIsRefused() {
        JsonObject prepared = prepare("audit", owner);
        String path = pathOf(prepared);
        String id = path.substring("/admin/api/exports/".length(), path.indexOf('?'));
        Sql.admin().update("UPDATE report_exports SET expires_at = now() - interval '1 second' WHERE id = ?::uuid", id);
        assertThat(download(path, owner).statusCode()).isEqualTo(403);
    }

    @Test
    void onlyOwnersPrepareAndOnlyTheFourReportsExist() {
        assertThatThrownBy(() -> prepare("accounts", support))
                .isInstanceOfSatisfying(
                        AppError.class, e -> assertThat(e.code().code()).isEqualTo("insufficient_role"));
        assertThatThrownBy(() -> prepare("passwords", owner)).isInstanceOfSatisfying(AppError.class, e -> {
            assertThat(e.code().code()).isEqualTo("validation_failed");
            assertThat(e.fieldErrors().get(0).field()).isEqualTo("report");
        });
        assertThat(Sql.admin().count("SELECT count(*) FROM report_exports WHERE owner_id = ?", support.userId()))
                .isZero();
    }

    @Test
    void preparingAndDownloadingAreAuditedWithTheOwnerAsActorAndTheTokenIsStoredHashed() {
        UUID action = UUID.randomUUID();
        JsonObject prepared = TestServer.await(reports.prepare(action, "subscriptions", principal(owner)));
        String path = pathOf(prepared);
        String id = path.substring("/admin/api/exports/".length(), path.indexOf('?'));
        String token = path.substring(path.indexOf("token=") + 6);
        assertThat(Sql.admin()
                        .count(
                                "SELECT count(*) FROM report_exports WHERE id = ?::uuid AND action_id = ? "
                                        + "AND token_hash = sha256(convert_to(?, 'UTF8'))",
                                id,
                                action,
                                token))
                .isEqualTo(1);
        download(path, owner);
        assertThat(Sql.admin()
                        .strings(
                                "SELECT action || ' ' || actor_type || ' ' || actor_id FROM audit_log "
                                        + "WHERE target_type = 'report_export' AND target_id = ? ORDER BY id",
                                id))
                .containsExactly(
                        "admin.report_prepared owner " + owner.userId(),
                        "admin.report_downloaded owner " + owner.userId());
    }

    @Test
    void theSubscriptionsAndEmailsReportsCarryTheirColumns() {
        TestUser customer = users.create();
        Sql.admin()
                .update(
                        "INSERT INTO billing_accounts (account_id, stripe_customer_id, subscription_id, subscription_status, "
                                + "trial_end) VALUES (?, 'cus_Report1', ?, 'trialing', '2026-12-20T10:00:00Z')",
                        customer.accountId(),
                        "sub_R" + customer.accountId().toString().replace("-", ""));
        UUID email = UUID.randomUUID();
        Sql.admin()
                .update(
                        "INSERT INTO email_outbox (id, account_id, template, recipient, dedupe_key, status, last_error) "
                                + "VALUES (?, ?, 'signin_alert', ?, ?, 'failed', ?)",
                        email,
                        customer.accountId(),
                        customer.email(),
                        "report-test:" + email,
                        "550 mailbox \"full\",\r\nsorry");

        List<List<String>> subscriptions = csv(download(pathOf(prepare("subscriptions", owner)), owner));
        assertThat(subscriptions.get(0))
                .containsExactly(
                        "accountId",
                        "businessName",
                        "subscriptionStatus",
                        "stripeStatus",
                        "trialEnd",
                        "currentPeriodEnd",
                        "cancelAtPeriodEnd",
                        "stripeCustomerId",
                        "subscriptionId",
                        "updatedAt");
        List<String> sub = rowWith(subscriptions, customer.accountId().toString());
        assertThat(sub.get(2)).isEqualTo("trialing");
        assertThat(sub.get(4)).isEqualTo("2026-12-20T10:00:00.000Z");
        assertThat(sub.get(6)).isEqualTo("false");
        assertThat(sub.get(7)).isEqualTo("cus_Report1");

        List<List<String>> emails = csv(download(pathOf(prepare("emails", owner)), owner));
        assertThat(emails.get(0))
                .containsExactly(
                        "id",
                        "accountId",
                        "template",
                        "recipient",
                        "status",
                        "attempts",
                        "createdAt",
                        "sentAt",
                        "lastError");
        List<String> mail = rowWith(emails, email.toString());
        assertThat(mail.subList(1, 6))
                .containsExactly(customer.accountId().toString(), "signin_alert", customer.email(), "failed", "0");
        assertThat(mail.get(8)).isEqualTo("550 mailbox \"full\",\r\nsorry");
    }

    @Test
    void theAuditReportJoinsItsPagesInOrderWithoutLossAndShowsImpersonation() {
        TestUser customer = users.create();
        UUID staff = owner.userId();
        // More than two pages of entries, one impersonated, seeded as the administrator.
        Sql.admin()
                .update(
                        "INSERT INTO audit_log (account_id, actor_type, actor_id, impersonator_id, action, details) "
                                + "SELECT ?, 'user', ?, CASE WHEN g = 1 THEN ?::uuid END, 'report.test', "
                                + "jsonb_build_object('n', g, 'note', '=1+1, \"x\"') FROM generate_series(1, 2500) g",
                        customer.accountId(),
                        customer.userId(),
                        staff);
        long last = Sql.admin().count("SELECT max(id) FROM audit_log");
        List<List<String>> rows = csv(download(pathOf(prepare("audit", owner)), owner));
        assertThat(rows.get(0))
                .containsExactly(
                        "id",
                        "occurredAt",
                        "accountId",
                        "actorType",
                        "actorId",
                        "impersonatedBy",
                        "action",
                        "targetType",
                        "targetId",
                        "ip",
                        "userAgent",
                        "details",
                        "prevHash",
                        "hash");
        List<Long> ids = rows.subList(1, rows.size()).stream()
                .map(r -> Long.parseLong(r.get(0)))
                .toList();
        assertThat(ids).isSorted().doesNotHaveDuplicates();
        // Everything up to the newest entry when the export was prepared, and no entry is lost between pages.
        assertThat(ids)
                .containsAll(Sql.admin().strings("SELECT id FROM audit_log WHERE id <= ?", last).stream()
                        .map(Long::parseLong)
                        .toList());
        List<List<String>> seeded = rows.stream()
                .filter(r -> r.get(6).equals("report.test")
                        && r.get(2).equals(customer.accountId().toString()))
                .toList();
        assertThat(seeded).hasSize(2500);
        assertThat(seeded.get(0).get(5)).isEqualTo(staff.toString());
        assertThat(seeded.get(1).get(5)).isEmpty();
        assertThat(seeded.get(0).get(11)).startsWith("{").contains("=1+1, \\\"x\\\"");
    }
}
