package uk.co.tradersflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import uk.co.tradersflow.support.Haproxy;
import uk.co.tradersflow.support.LocalRedis;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;
import uk.co.tradersflow.support.TrustAllTls;

/**
 * A dependency every instance shares going down fails every instance's readiness at once. The
 * balancer must not answer its own bare 503 to everything then: what works without the dependency
 * (reads, during a Redis outage) is still served through it, and what does not (sign-in) gets the
 * server's own problem answer. When Redis returns, readiness and sign-in come back.
 */
class BalancerSharedOutageTest {
    @TempDir
    Path work;

    @Test
    void whenRedisIsDownForEveryInstanceTheBalancerStillServesReadsAndSignInFailsClosed() throws Exception {
        assumeTrue(Haproxy.installed(), "haproxy is not installed (apt-get install -y haproxy)");
        try (LocalRedis redis = LocalRedis.start();
                TestServer s1 = TestServer.start(redis.settings())) {
            Map<String, String> second = new HashMap<>(redis.settings());
            // The same development certificate on both, so the balancer trusts one CA for both.
            second.put("TF_DEV_DATA_DIR", s1.config.ops().devDataDir().toString());
            try (TestServer s2 = TestServer.start(second);
                    Haproxy lb =
                            Haproxy.start(ports(s1), ports(s2), s1.config.ops().devDataDir(), work)) {
                WebClient through = WebClient.create(s1.vertx, TrustAllTls.webClient(lb.httpsPort));
                TestUser user = new TestUsers(s1).create();
                assertThat(me(through, user).statusCode()).isEqualTo(200);

                redis.kill();
                lb.awaitState("s1", "DOWN", Duration.ofSeconds(20));
                lb.awaitState("s2", "DOWN", Duration.ofSeconds(20));
                for (int i = 0; i < 6; i++) {
                    HttpResponse<Buffer> read = me(through, user);
                    assertThat(read.statusCode())
                            .as("a read through the balancer while Redis is down: " + read.bodyAsString())
                            .isEqualTo(200);
                }
                HttpResponse<Buffer> signIn = TestServer.await(through.request(HttpMethod.POST, "/api/v1/auth/login")
                        .sendJsonObject(
                                new JsonObject().put("email", user.email()).put("password", "whatever it is")));
                assertThat(signIn.statusCode()).isEqualTo(503);
                assertThat(signIn.getHeader("Content-Type")).startsWith("application/problem+json");

                redis.restart();
                lb.awaitState("s1", "UP", Duration.ofSeconds(30));
                lb.awaitState("s2", "UP", Duration.ofSeconds(30));
                assertThat(me(through, user).statusCode()).isEqualTo(200);
            }
        }
    }

    private static int[] ports(TestServer s) {
        return new int[] {s.config.http().httpsPort(), s.config.http().httpPort()};
    }

    private static HttpResponse<Buffer> me(WebClient through, TestUser user) {
        return TestServer.await(through.request(HttpMethod.GET, "/api/v1/me")
                .bearerTokenAuthentication(user.token())
                .send());
    }
}
