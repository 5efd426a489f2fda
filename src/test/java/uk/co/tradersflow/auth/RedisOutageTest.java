package uk.co.tradersflow.auth;

import static io.vertx.core.http.HttpMethod.GET;
import static io.vertx.core.http.HttpMethod.POST;
import static org.assertj.core.api.Assertions.assertThat;
import static uk.co.tradersflow.auth.SignInFlowTest.login;
import static uk.co.tradersflow.auth.SignInFlowTest.server;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.health.HealthRoutes;
import uk.co.tradersflow.support.LocalRedis;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.TestServer;

/**
 * Redis goes away under a running server (its own redis-server, killed or frozen by the test):
 * sign-in fails closed (503, so no guess goes uncounted and no lockout is skipped); what does not
 * need Redis keeps working (refresh and sign-out are PostgreSQL's; the API's rate limit falls back
 * to a per-instance budget); nothing waits longer than the call timeout; and when Redis is back,
 * sign-in works again by itself within seconds, with the lockouts Redis persisted still in force.
 */
class RedisOutageTest {
    static final int MAX_FAILURES = 2;
    static LocalRedis redis;

    // Redis as production runs it (README: AOF on), fsync on every write so a kill loses nothing.
    @RegisterExtension
    static final ServerExtension lifecycle = ServerExtension.with(() -> {
                redis = LocalRedis.start("--appendonly", "yes", "--appendfsync", "always");
                Map<String, String> settings = SignInFlowTest.ownRedisSettings(redis.settings(), MAX_FAILURES);
                return settings;
            })
            .closing(() -> redis)
            .then(s -> SignInFlowTest.server = s);

    /** The answer, and how long it took. */
    private record Timed(HttpResponse<Buffer> response, Duration took) {}

    private static Timed timed(Supplier<HttpResponse<Buffer>> call) {
        long start = System.nanoTime();
        HttpResponse<Buffer> r = call.get();
        return new Timed(r, Duration.ofNanos(System.nanoTime() - start));
    }

    private static void assertUnavailable(Timed t, String what) {
        assertThat(t.response().statusCode())
                .as(what + ": " + t.response().bodyAsString())
                .isEqualTo(503);
        assertThat(t.response().bodyAsJsonObject().getString("code")).isEqualTo("service_unavailable");
        assertThat(t.took()).as(what + " answered within the call timeout").isLessThan(Duration.ofMillis(2500));
    }

    /** Milliseconds until sign-in answers 200 again (at most 10 s). */
    private static long millisUntilSignInWorks(String email) throws InterruptedException {
        long start = System.nanoTime();
        while (System.nanoTime() - start < 10_000_000_000L) {
            if (login(email, SignInFlowTest.PASSWORD).statusCode() == 200) {
                return (System.nanoTime() - start) / 1_000_000;
            }
            Thread.sleep(100);
        }
        return Long.MAX_VALUE;
    }

    /** Readiness as a call made now sees it: after the answer a call may reuse (HealthRoutes.READINESS_REUSE). */
    private static String readiness() {
        try {
            Thread.sleep(HealthRoutes.READINESS_REUSE.toMillis() + 100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        HttpResponse<Buffer> ready =
                TestServer.await(server().plainClient.get("/health/ready").send());
        return ready.statusCode() + " "
                + ready.bodyAsJsonObject()
                        .getJsonObject("checks")
                        .getJsonObject("redis")
                        .getString("status");
    }

    @Test
    void redisKilledSignInFailsClosedTheRestWorksAndWhenItReturnsSignInDoesAndLockoutsStand() throws Exception {
        String email = SignInFlowTest.email();
        JsonObject tokens = SignInFlowTest.signedUpAndIn(email);
        JsonObject other = login(email, SignInFlowTest.PASSWORD).bodyAsJsonObject();
        String locked = SignInFlowTest.email();
        SignInFlowTest.signedUpAndIn(locked);
        for (int i = 0; i < MAX_FAILURES; i++) {
            assertThat(login(locked, "wrong guess " + i).statusCode()).isEqualTo(401);
        }
        assertThat(login(locked, SignInFlowTest.PASSWORD).statusCode()).isEqualTo(429);

        redis.kill();
        try {
            assertUnavailable(timed(() -> login(email, SignInFlowTest.PASSWORD)), "sign-in");
            assertUnavailable(timed(() -> login(locked, SignInFlowTest.PASSWORD)), "a locked-out sign-in");
            assertUnavailable(timed(() -> login(email, "a guess")), "a guess");
            assertThat(readiness()).isEqualTo("503 DOWN");

            // PostgreSQL holds sessions, refresh tokens and revocations: none of it needs Redis.
            Timed read = timed(() -> server().send(GET, "/api/v1/customers", tokens.getString("accessToken")));
            assertThat(read.response().statusCode()).isEqualTo(200);
            assertThat(read.response().getHeader("RateLimit-Limit"))
                    .as("limited by the per-instance budget")
                    .isNotNull();
            HttpResponse<Buffer> refreshed = SignInFlowTest.post(
                    "/api/v1/auth/refresh", new JsonObject().put("refreshToken", tokens.getString("refreshToken")));
            assertThat(refreshed.statusCode()).as(refreshed.bodyAsString()).isEqualTo(200);
            assertThat(server().send(POST, "/api/v1/auth/logout-all", other.getString("accessToken"))
                            .statusCode())
                    .as("signing out everywhere commits in PostgreSQL; the signal to other instances is lost")
                    .isEqualTo(204);
            assertThat(SignInFlowTest.awaitStatus(refreshed.bodyAsJsonObject().getString("accessToken"), 401))
                    .as("and every session ends within the cache window all the same")
                    .isLessThan(1_500);
        } finally {
            redis.restart();
        }
        long ms = millisUntilSignInWorks(email);
        System.out.println("redis outage: sign-in worked again " + ms + " ms after Redis restarted");
        assertThat(ms).as("sign-in works again once Redis is back").isLessThan(5_000);
        assertThat(login(locked, SignInFlowTest.PASSWORD).statusCode())
                .as("the lockout outlived the outage")
                .isEqualTo(429);
        assertThat(readiness()).isEqualTo("200 UP");
    }

    @Test
    void aRedisThatHangsCostsACallTimeoutNotAHungRequest() throws Exception {
        String email = SignInFlowTest.email();
        String token = SignInFlowTest.signedUpAndIn(email).getString("accessToken");
        redis.freeze();
        try {
            assertUnavailable(timed(() -> login(email, SignInFlowTest.PASSWORD)), "sign-in on a hung Redis");
            long started = System.nanoTime();
            for (int i = 0; i < 10; i++) {
                Timed read = timed(() -> server().send(GET, "/api/v1/customers", token));
                assertThat(read.response().statusCode()).isEqualTo(200);
                assertThat(read.took()).as("read %d", i).isLessThan(Duration.ofMillis(2500));
            }
            System.out.println("redis hung: 10 reads took "
                    + Duration.ofNanos(System.nanoTime() - started).toMillis() + " ms");
            assertThat(Duration.ofNanos(System.nanoTime() - started))
                    .as("once Redis is known down, reads do not wait for it one by one")
                    .isLessThan(Duration.ofSeconds(5));
            long asked = System.nanoTime();
            assertThat(readiness()).isEqualTo("503 DOWN");
            assertThat(Duration.ofNanos(System.nanoTime() - asked))
                    .as("readiness answers within its check timeout")
                    .isLessThan(Duration.ofSeconds(4));
        } finally {
            redis.thaw();
        }
        assertThat(millisUntilSignInWorks(email)).isLessThan(5_000);
    }
}
