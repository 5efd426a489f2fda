package uk.co.tradersflow.console;

import static org.assertj.core.api.Assertions.assertThat;
import static uk.co.tradersflow.console.ConsoleBrowserTest.cookieOf;
import static uk.co.tradersflow.console.ConsoleBrowserTest.get;
import static uk.co.tradersflow.console.ConsoleBrowserTest.signIn;
import static uk.co.tradersflow.console.ConsoleBrowserTest.staffWithPassword;

import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import uk.co.tradersflow.platform.crypto.ServerKeys;
import uk.co.tradersflow.support.LocalRedis;
import uk.co.tradersflow.support.TestClock;
import uk.co.tradersflow.support.TestServer;

/**
 * The console's 30-minute idle limit is the servers' own record, not only what the cookie says:
 * two instances share one Redis (of the test's own, so it can be killed) and one clock the test
 * moves, and a cookie that still reads as live is refused, on either instance, once neither has
 * seen the session used for 30 minutes. Redis down: the console fails closed.
 */
class ConsoleIdleTest {
    static final String OWNER = "owner-idle-" + UUID.randomUUID() + "@tradersflow.test";
    static final TestClock clock = new TestClock();
    static LocalRedis redis;
    static TestServer first;
    static TestServer second;
    static ConsoleCookie cookies;

    @BeforeAll
    static void start() {
        redis = LocalRedis.start();
        Map<String, String> settings = new HashMap<>(redis.settings());
        settings.put("TF_OWNER_EMAILS", OWNER);
        first = TestServer.start(settings, clock);
        // The same development keys on both, as every instance of one deployment has.
        settings.put("TF_DEV_DATA_DIR", first.config.ops().devDataDir().toString());
        second = TestServer.start(settings, clock);
        staffWithPassword(first, OWNER);
        cookies = new ConsoleCookie(ServerKeys.resolve(first.config).dataKey());
    }

    @AfterAll
    static void stop() {
        if (second != null) {
            second.close();
        }
        if (first != null) {
            first.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    @Test
    void aCookieThatStillReadsLiveIsRefusedOnEveryInstanceOnceNoInstanceSawItsSessionFor30Minutes() {
        String signedIn = cookieOf(signIn(first, OWNER));
        ConsoleCookie.Value opened = valueOf(signedIn);
        assertThat(get(second, "/admin/accounts", signedIn).statusCode())
                .as("the session is one record for every instance")
                .isEqualTo(200);

        clock.advance(Duration.ofMinutes(20));
        HttpResponse<Buffer> used = get(first, "/admin/accounts", signedIn);
        assertThat(used.statusCode()).isEqualTo(200);
        clock.advance(Duration.ofMinutes(20));
        assertThat(get(second, "/admin/accounts", cookieOf(used)).statusCode())
                .as("40 minutes after sign-in, 20 after the last use: still live")
                .isEqualTo(200);

        clock.advance(Duration.ofMinutes(31));
        // Sealed as if just used: what an instance whose clock ran ahead, or a replay re-sealed
        // with a leaked key, would present. The cookie's own limits pass it; the server's do not.
        String stillReadsLive = ConsoleCookie.NAME + "=" + cookies.seal(opened.seenAt(clock.instant()));
        assertThat(valueOf(stillReadsLive).liveAt(clock.instant())).isTrue();
        for (TestServer instance : new TestServer[] {first, second}) {
            HttpResponse<Buffer> replayed = get(instance, "/admin/accounts", stillReadsLive);
            assertThat(replayed.statusCode()).isEqualTo(401);
            assertThat(replayed.bodyAsString())
                    .contains("<h1>Sign in</h1>")
                    .contains("idle too long")
                    .doesNotContain("<h1>Accounts</h1>");
            assertThat(replayed.getHeader("Set-Cookie")).contains("Max-Age=0");
        }
    }

    @Test
    void signingInStartsTheRecordWithTheIdleLimitAsItsTtlAndSigningOutEndsIt() {
        HttpResponse<Buffer> signedIn = signIn(first, OWNER);
        String cookie = cookieOf(signedIn);
        String key = first.config.redis().keyPrefix() + "console:seen:"
                + valueOf(cookie).sessionId();
        long ttl = Long.parseLong(redis.cli("PTTL", key).trim());
        assertThat(ttl)
                .isBetween(
                        Duration.ofMinutes(29).toMillis(),
                        Duration.ofMinutes(30).toMillis());

        String csrf =
                ConsoleBrowserTest.csrfOf(get(first, "/admin/accounts", cookie).bodyAsString());
        HttpResponse<Buffer> out = ConsoleBrowserTest.postForm(
                first, "/admin/sign-out", cookie, ConsoleBrowserTest.base(first), "csrf=" + csrf);
        assertThat(out.statusCode()).isEqualTo(303);
        assertThat(redis.cli("EXISTS", key).trim()).isEqualTo("0");
    }

    @Test
    void whenRedisIsDownTheConsoleFailsClosedAndShowsNoData() {
        String cookie = cookieOf(signIn(second, OWNER));
        assertThat(get(first, "/admin/accounts", cookie).statusCode()).isEqualTo(200);
        redis.kill();
        try {
            long start = System.nanoTime();
            HttpResponse<Buffer> down = get(first, "/admin/accounts", cookie);
            assertThat(down.statusCode()).isEqualTo(503);
            assertThat(down.bodyAsString())
                    .contains("try again shortly")
                    .doesNotContain("<h1>Accounts</h1>")
                    .doesNotContain(OWNER);
            assertThat(Duration.ofNanos(System.nanoTime() - start))
                    .as("within the Redis call timeout")
                    .isLessThan(Duration.ofMillis(2500));
            assertThat(down.getHeader("Set-Cookie"))
                    .as("the cookie is kept: the session may well be live when Redis is back")
                    .isNull();
        } finally {
            redis.restart();
        }
        // This Redis keeps nothing across a restart: the record is gone, and so is the session.
        assertThat(get(first, "/admin/accounts", cookie).statusCode()).isEqualTo(401);
        assertThat(get(first, "/admin/accounts", cookieOf(signIn(first, OWNER))).statusCode())
                .isEqualTo(200);
    }

    private static ConsoleCookie.Value valueOf(String cookie) {
        return cookies.unseal(cookie.substring(cookie.indexOf('=') + 1)).orElseThrow();
    }
}
