package uk.co.tradersflow.auth;

import static io.vertx.core.http.HttpMethod.GET;
import static org.assertj.core.api.Assertions.assertThat;
import static uk.co.tradersflow.auth.SignInFlowTest.login;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.support.LocalRedisSentinel;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.TestEnvironment;

/**
 * {@code TF_REDIS_MODE=sentinel}: the server finds the master through a Sentinel, signs in, locks
 * out and limits the API there, and after the master dies and the Sentinel promotes its replica
 * it finds the new master by itself, with the lockout (replicated) still in force.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RedisSentinelTest {
    static final int MAX_FAILURES = 2;
    static final int API_BURST = 3;
    static LocalRedisSentinel redis;
    static String locked;

    @RegisterExtension
    static final ServerExtension lifecycle = ServerExtension.with(() -> {
                redis = LocalRedisSentinel.start();
                Map<String, String> settings = SignInFlowTest.ownRedisSettings(redis.settings(), MAX_FAILURES);
                settings.put("TF_API_RATE_PER_SECOND", "1");
                settings.put("TF_API_BURST", Integer.toString(API_BURST));
                return settings;
            })
            .closing(() -> redis)
            .then(s -> SignInFlowTest.server = s);

    /** A fresh user's API budget runs out after the burst: the limit is enforced (in Redis, shared). */
    private static void apiLimitHolds(String token) {
        for (int i = 0; i < API_BURST; i++) {
            assertThat(SignInFlowTest.server
                            .send(GET, "/api/v1/customers", token)
                            .statusCode())
                    .isEqualTo(200);
        }
        HttpResponse<Buffer> limited = SignInFlowTest.server.send(GET, "/api/v1/customers", token);
        assertThat(limited.statusCode()).isEqualTo(429);
        assertThat(limited.getHeader("Retry-After")).isNotNull();
    }

    @Test
    @Order(1)
    void signInLockoutAndTheApiLimitWorkThroughTheSentinelsMaster() throws Exception {
        String token = SignInFlowTest.signedUpAndIn(SignInFlowTest.email()).getString("accessToken");
        apiLimitHolds(token);
        locked = SignInFlowTest.email();
        SignInFlowTest.signedUpAndIn(locked);
        for (int i = 0; i < MAX_FAILURES; i++) {
            assertThat(login(locked, "wrong guess " + i).statusCode()).isEqualTo(401);
        }
        assertThat(login(locked, SignInFlowTest.PASSWORD).statusCode()).isEqualTo(429);
        assertThat(redis.master.cli("--scan", "--pattern", TestEnvironment.get().redisPrefix + "*"))
                .as("the counters live on the master the sentinel named")
                .contains("login:lock:");
    }

    @Test
    @Order(2)
    void whenTheMasterDiesTheServerFollowsTheSentinelToThePromotedReplica() throws Exception {
        // The lockout must have reached the replica before the master goes (replication is asynchronous).
        assertThat(redis.master.cli("wait", "1", "2000").trim()).isEqualTo("1");
        redis.master.kill();
        redis.awaitMasterOn(redis.replica.port, 30);
        String email = SignInFlowTest.email();
        long start = System.nanoTime();
        HttpResponse<Buffer> signUp;
        do {
            signUp = SignInFlowTest.post(
                    "/api/v1/auth/signup",
                    new JsonObject()
                            .put("email", email)
                            .put("password", SignInFlowTest.PASSWORD)
                            .put("businessName", "Sparks Ltd"));
            if (signUp.statusCode() != 201) {
                Thread.sleep(200);
            }
        } while (signUp.statusCode() != 201 && System.nanoTime() - start < 10_000_000_000L);
        long ms = (System.nanoTime() - start) / 1_000_000;
        System.out.println("sentinel failover: the per-IP limit (Redis) worked again " + ms
                + " ms after the sentinel named the new master");
        assertThat(signUp.statusCode()).as(signUp.bodyAsString()).isEqualTo(201);
        assertThat(SignInFlowTest.post(
                                "/api/v1/auth/verify-email",
                                new JsonObject().put("token", SignInFlowTest.mailedToken(email, "verify_email")))
                        .statusCode())
                .isEqualTo(204);
        HttpResponse<Buffer> in = login(email, SignInFlowTest.PASSWORD);
        assertThat(in.statusCode()).as(in.bodyAsString()).isEqualTo(200);
        apiLimitHolds(in.bodyAsJsonObject().getString("accessToken"));
        assertThat(login(locked, SignInFlowTest.PASSWORD).statusCode())
                .as("the lockout was replicated and stands on the new master")
                .isEqualTo(429);
    }
}
