package uk.co.tradersflow.auth;

import static io.vertx.core.http.HttpMethod.GET;
import static io.vertx.core.http.HttpMethod.POST;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.Sql;
import uk.co.tradersflow.support.TestServer;

/**
 * Issue 21: sign-out-everywhere reaches every instance within a second while refreshes run flat
 * out on both. Two instances share the database, Redis and keys; {@value #ROTATORS} sessions rotate
 * their refresh tokens back to back, half on each instance, while a user signs out everywhere on
 * the first and the second is asked, every 10 ms, whether that user's access token still works.
 * The second counts from the sign-out's answer (its commit): how long the request itself took under
 * the load is logged beside it.
 */
class LogoutEverywhereUnderRefreshLoadTest {
    private static final Logger log = LoggerFactory.getLogger(LogoutEverywhereUnderRefreshLoadTest.class);
    static final String PASSWORD = "correct horse battery staple";
    static final int ROTATORS = 16;
    static TestServer server;

    @RegisterExtension
    static final ServerExtension lifecycle =
            ServerExtension.with(LogoutEverywhereUnderRefreshLoadTest::settings).then(s -> server = s);

    private static Map<String, String> settings() {
        Map<String, String> s = new HashMap<>();
        s.put("TF_SMTP_PORT", Integer.toString(TestServer.freePort()));
        s.put("TF_LOGIN_IP_LIMIT_PER_MINUTE", "100000");
        s.put("TF_API_RATE_PER_SECOND", "100000");
        s.put("TF_API_BURST", "100000");
        return s;
    }

    /** The same deployment on its own ports: database, Redis prefix and keys shared. */
    private static TestServer secondInstance() {
        Map<String, String> s = settings();
        s.put("TF_DEV_DATA_DIR", server.config.ops().devDataDir().toString());
        return TestServer.start(s);
    }

    private static String signedUp(TestServer on) {
        String email = "rotating-" + UUID.randomUUID() + "@example.test";
        assertThat(on.signUp(email, PASSWORD).statusCode()).isEqualTo(201);
        Sql.admin().update("UPDATE users SET email_verified_at = now() WHERE email = ?", email);
        return email;
    }

    private static JsonObject signedIn(TestServer on, String email) {
        HttpResponse<Buffer> login = TestServer.await(on.request(POST, "/api/v1/auth/login")
                .sendJsonObject(new JsonObject().put("email", email).put("password", PASSWORD)));
        assertThat(login.statusCode()).as(login.bodyAsString()).isEqualTo(200);
        return login.bodyAsJsonObject();
    }

    /** Rotates {@code refreshToken} on {@code on} again and again, each answer's successor next, until {@code stop}. */
    private static Future<Void> rotate(
            TestServer on, String refreshToken, AtomicBoolean stop, AtomicLong done, List<String> failures) {
        if (stop.get()) {
            return Future.succeededFuture();
        }
        return on.request(POST, "/api/v1/auth/refresh")
                .sendJsonObject(new JsonObject().put("refreshToken", refreshToken))
                .compose(r -> {
                    if (r.statusCode() != 200) {
                        synchronized (failures) {
                            failures.add(r.statusCode() + " " + r.bodyAsString());
                        }
                        return Future.succeededFuture();
                    }
                    done.incrementAndGet();
                    return rotate(on, r.bodyAsJsonObject().getString("refreshToken"), stop, done, failures);
                });
    }

    @Test
    void aSecondInstanceRefusesTheUsersTokensWithinOneSecondOfLogoutAllWhileRefreshesRunFlatOut() throws Exception {
        try (TestServer b = secondInstance()) {
            String rotating = signedUp(server);
            List<String> refreshTokens = new ArrayList<>();
            for (int i = 0; i < ROTATORS; i++) {
                refreshTokens.add(signedIn(server, rotating).getString("refreshToken"));
            }
            String leaving = signedUp(server);
            JsonObject here = signedIn(server, leaving);
            JsonObject there = signedIn(b, leaving);
            assertThat(b.send(GET, "/api/v1/me", there.getString("accessToken")).statusCode())
                    .isEqualTo(200);

            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong done = new AtomicLong();
            List<String> failures = new ArrayList<>();
            List<Future<Void>> loops = new ArrayList<>();
            for (int i = 0; i < ROTATORS; i++) {
                loops.add(rotate(i % 2 == 0 ? server : b, refreshTokens.get(i), stop, done, failures));
            }
            Thread.sleep(2_000); // the load at full speed before the sign-out
            long before = done.get();
            long asked = System.nanoTime();

            HttpResponse<Buffer> out = server.send(POST, "/api/v1/auth/logout-all", here.getString("accessToken"));
            assertThat(out.statusCode()).as(out.bodyAsString()).isEqualTo(204);
            // From the answer: the sign-out is committed then, and from then on it must reach every instance.
            long start = System.nanoTime();
            long refusedAfterMs = -1;
            while (System.nanoTime() - start < 3_000_000_000L) {
                if (b.send(GET, "/api/v1/me", there.getString("accessToken")).statusCode() == 401) {
                    refusedAfterMs = (System.nanoTime() - start) / 1_000_000;
                    break;
                }
                Thread.sleep(10);
            }
            long during = done.get() - before;
            double seconds = (System.nanoTime() - asked) / 1e9;
            stop.set(true);
            TestServer.await(Future.join(loops));
            log.info(
                    "LOGOUT-ALL UNDER REFRESH LOAD: answered 204 on the first instance after {} ms, refused on the second {} ms"
                            + " after that; {} refreshes/s meanwhile",
                    (start - asked) / 1_000_000,
                    refusedAfterMs,
                    String.format("%.0f", during / seconds));

            assertThat(failures).as("refreshes refused during the run").isEmpty();
            assertThat(during).as("refreshes kept running during the sign-out").isPositive();
            assertThat(refusedAfterMs)
                    .as("the second instance refuses the signed-out user's access token within a second")
                    .isBetween(0L, 999L);
            HttpResponse<Buffer> refreshed = TestServer.await(b.request(POST, "/api/v1/auth/refresh")
                    .sendJsonObject(new JsonObject().put("refreshToken", there.getString("refreshToken"))));
            assertThat(refreshed.statusCode())
                    .as("nor does its refresh token open anything there")
                    .isEqualTo(401);
        }
    }
}
