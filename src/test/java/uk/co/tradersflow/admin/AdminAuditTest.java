package uk.co.tradersflow.admin;

import static io.vertx.core.http.HttpMethod.GET;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
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

/** {@code GET /admin/api/audit}: the audit log newest first, its filters, its pages, its refusals. */
class AdminAuditTest {
    static final String OWNER = "owner-" + UUID.randomUUID() + "@tradersflow.test";
    static final UUID ACCOUNT = UUID.randomUUID();
    static final UUID ALICE = UUID.randomUUID();
    static final UUID BOB = UUID.randomUUID();
    /** When the seeded entries happened: whole minutes, days apart, oldest first. */
    static final Instant NOW = Instant.now().truncatedTo(ChronoUnit.MINUTES);

    static TestServer server;
    static TestUser owner;

    @RegisterExtension
    static final ServerExtension lifecycle = ServerExtension.with(
                    Map.of("TF_OWNER_EMAILS", OWNER, "TF_API_BURST", "1000"))
            .then(s -> server = s);

    /** Seven entries of one account, days apart: ids and times rise together. */
    @BeforeAll
    static void entries() {
        owner = new TestUsers(server).create(OWNER, true);
        Sql.admin().update("INSERT INTO accounts (id, business_name) VALUES (?, 'Audited Ltd')", ACCOUNT);
        entry(6, "auth.login", ALICE, null);
        entry(5, "auth.login_failed", ALICE, null);
        entry(4, "auth.login", BOB, null);
        entry(3, "invoice.sent", ALICE, owner.userId());
        entry(2, "auth.logout", BOB, null);
        entry(1, "auth.login", ALICE, null);
        entry(0, "auth.password_changed", ALICE, null);
    }

    private static void entry(int daysAgo, String action, UUID actor, UUID impersonator) {
        Sql.admin()
                .update(
                        "INSERT INTO audit_log (account_id, occurred_at, actor_type, actor_id, impersonator_id, action, "
                                + "target_type, target_id, ip, user_agent, details) "
                                + "OVERRIDING SYSTEM VALUE SELECT ?, ?, 'user', ?, ?, ?, 'user', ?, '198.51.100.7', 'Agent/1', ?::jsonb",
                        ACCOUNT,
                        OffsetDateTime.ofInstant(NOW.minus(Duration.ofDays(daysAgo)), ZoneOffset.UTC),
                        actor,
                        impersonator,
                        action,
                        actor.toString(),
                        new JsonObject().put("daysAgo", daysAgo).encode());
    }

    private static JsonObject ok(String query) {
        HttpResponse<Buffer> r = server.send(GET, "/admin/api/audit?" + query, owner.token());
        assertThat(r.statusCode()).as(query + ": " + r.bodyAsString()).isEqualTo(200);
        return r.bodyAsJsonObject();
    }

    private static List<Integer> days(JsonObject page) {
        List<Integer> out = new ArrayList<>();
        page.getJsonArray("items")
                .forEach(i -> out.add(((JsonObject) i).getJsonObject("details").getInteger("daysAgo")));
        return out;
    }

    private static String at(Instant t) {
        return URLEncoder.encode(t.toString(), StandardCharsets.UTF_8);
    }

    @Test
    void oneAccountsEntriesComeNewestFirstWithEveryField() {
        JsonObject page = ok("accountId=" + ACCOUNT);
        assertThat(days(page)).containsExactly(0, 1, 2, 3, 4, 5, 6);
        assertThat(page.getString("nextCursor")).isNull();
        JsonObject impersonated = page.getJsonArray("items").getJsonObject(3);
        assertThat(impersonated.getString("action")).isEqualTo("invoice.sent");
        assertThat(impersonated.getString("actorType")).isEqualTo("user");
        assertThat(impersonated.getString("actorId")).isEqualTo(ALICE.toString());
        assertThat(impersonated.getString("impersonatedBy"))
                .isEqualTo(owner.userId().toString());
        assertThat(impersonated.getString("accountId")).isEqualTo(ACCOUNT.toString());
        assertThat(impersonated.getString("occurredAt"))
                .isEqualTo(NOW.minus(Duration.ofDays(3)).toString());
        assertThat(impersonated.getString("ip")).isEqualTo("198.51.100.7");
        assertThat(impersonated.getString("userAgent")).isEqualTo("Agent/1");
        assertThat(impersonated.getString("targetType")).isEqualTo("user");
        assertThat(impersonated.containsKey("prevHash")).isTrue();
        assertThat(impersonated.containsKey("hash")).isTrue();
        assertThat(page.getJsonArray("items").getJsonObject(0).getString("impersonatedBy"))
                .isNull();
    }

    @Test
    void sealedEntriesShowTheirPlaceInTheHashChain() {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        JsonArray items;
        do {
            items = ok("accountId=" + ACCOUNT).getJsonArray("items");
        } while (items.stream().anyMatch(i -> ((JsonObject) i).getString("hash") == null)
                && System.nanoTime() < deadline);
        for (Object i : items) {
            JsonObject e = (JsonObject) i;
            assertThat(e.getString("hash")).as("sealed by the sealer").matches("[0-9a-f]{64}");
            assertThat(e.getString("prevHash")).matches("[0-9a-f]{64}");
        }
    }

    @Test
    void filtersByActionActorAndTimeCombine() {
        assertThat(days(ok("accountId=" + ACCOUNT + "&action=auth.login"))).containsExactly(1, 4, 6);
        assertThat(days(ok("actorId=" + BOB))).containsExactly(2, 4);
        assertThat(days(ok("actorId=" + ALICE + "&action=auth.login"))).containsExactly(1, 6);
        assertThat(days(ok("accountId=" + ACCOUNT + "&from=" + at(NOW.minus(Duration.ofDays(4))) + "&to="
                        + at(NOW.minus(Duration.ofDays(1))))))
                .as("from inclusive, to exclusive")
                .containsExactly(2, 3, 4);
        String dayOfTheNewest = NOW.atOffset(ZoneOffset.UTC).toLocalDate().toString();
        assertThat(days(ok("accountId=" + ACCOUNT + "&from=" + dayOfTheNewest)))
                .contains(0)
                .doesNotContain(2, 3, 4, 5, 6);
    }

    @Test
    void pagesFollowTheCursorWithoutRepeatsOrGaps() {
        List<Integer> seen = new ArrayList<>();
        String cursor = null;
        int pages = 0;
        do {
            JsonObject page = ok("accountId=" + ACCOUNT + "&limit=3" + (cursor == null ? "" : "&cursor=" + cursor));
            seen.addAll(days(page));
            cursor = page.getString("nextCursor");
            pages++;
        } while (cursor != null && pages < 10);
        assertThat(pages).isEqualTo(3);
        assertThat(seen).containsExactly(0, 1, 2, 3, 4, 5, 6);
    }

    @Test
    void badFilterValuesAre422WithEachFieldNamedAndNothingIsRead() {
        HttpResponse<Buffer> r = server.send(
                GET,
                "/admin/api/audit?accountId=nope&actorId=12&action=Not%20An%20Action&from=yesterday&to=2026-13-01",
                owner.token());
        assertThat(r.statusCode()).isEqualTo(422);
        JsonObject problem = r.bodyAsJsonObject();
        assertThat(problem.getString("code")).isEqualTo("validation_failed");
        assertThat(problem.getJsonArray("errors").stream().map(e -> ((JsonObject) e).getString("field")))
                .containsExactlyInAnyOrder("accountId", "actorId", "action", "from", "to");

        HttpResponse<Buffer> backwards =
                server.send(GET, "/admin/api/audit?from=2026-12-02&to=2026-12-01", owner.token());
        assertThat(backwards.statusCode()).isEqualTo(422);
        assertThat(backwards
                        .bodyAsJsonObject()
                        .getJsonArray("errors")
                        .getJsonObject(0)
                        .getString("field"))
                .isEqualTo("to");

        assertThat(server.send(GET, "/admin/api/audit?limit=101", owner.token()).statusCode())
                .isEqualTo(400);
        assertThat(server.send(GET, "/admin/api/audit?cursor=bm9wZQ", owner.token())
                        .statusCode())
                .isEqualTo(400);
    }
}
