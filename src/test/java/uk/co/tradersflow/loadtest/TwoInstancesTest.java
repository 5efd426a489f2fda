package uk.co.tradersflow.loadtest;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import org.junit.jupiter.api.Test;
import uk.co.tradersflow.loadtest.TwoInstances.BalancedRequest;
import uk.co.tradersflow.loadtest.TwoInstances.GatlingFailure;

/**
 * How load-tests/two-instances.sh reads what Gatling and HAProxy logged: the lines below are as
 * the two wrote them in a run.
 */
class TwoInstancesTest {
    static final long KILL = Instant.parse("2026-12-06T13:16:41.000Z").toEpochMilli();

    @Test
    void aBalancerLogLineGivesItsServerStatusRetriesAndMethodAndOtherLinesAreSkipped() {
        BalancedRequest retried = BalancedRequest.of(
                        "127.0.0.1:41568 [06/Dec/2026:13:16:41.780] tradersflow~ tradersflow/s1 0/1198/0/127/1325 200 5901 - - ---- 10/10/8/8/+1 0/0 \"GET /api/v1/invoices?limit=20 HTTP/1.1\"")
                .orElseThrow();
        long accepted = LocalDateTime.parse("2026-12-06T13:16:41.780")
                .atZone(ZoneId.systemDefault())
                .toInstant()
                .toEpochMilli();
        assertThat(retried).isEqualTo(new BalancedRequest(accepted, accepted + 1325, "s1", 200, 1, true, "GET"));

        assertThat(BalancedRequest.of(
                                "127.0.0.1:46304 [06/Dec/2026:13:15:33.365] tradersflow~ tradersflow/s2 0/0/644/-1/1730 502 777 - - SH-- 1/1/0/0/0 0/0 \"POST /api/v1/invoices HTTP/1.1\"")
                        .orElseThrow())
                .extracting(
                        BalancedRequest::server,
                        BalancedRequest::status,
                        BalancedRequest::retries,
                        BalancedRequest::redispatched,
                        BalancedRequest::method)
                .containsExactly("s2", 502, 0, false, "POST");

        // The test's own stats listener, and HAProxy's notices, are not requests through the balancer.
        assertThat(
                        BalancedRequest.of(
                                "127.0.0.1:35288 [06/Dec/2026:13:15:30.301] stats stats/<STATS> 0/0/0/0/0 200 3574 - - LR-- 1/1/0/0/0 0/0 \"GET /stats;csv HTTP/1.1\""))
                .isEmpty();
        assertThat(
                        BalancedRequest.of(
                                "Server tradersflow/s2 is DOWN, reason: Layer4 connection problem, info: \"Connection refused\", check duration: 1ms."))
                .isEmpty();
    }

    @Test
    void
            onlyAGatlingFailureOtherThanAGetEndingWithinTheDetectionWindowAfterTheKillCountsAsInFlightOnTheKilledInstance() {
        GatlingFailure post = GatlingFailure.of(
                        "2026-12-06T13:16:41.812Z Request 'POST /api/v1/invoices' failed for user 7: status.find.is(201), but actually found 502")
                .orElseThrow();
        assertThat(post)
                .isEqualTo(new GatlingFailure(
                        KILL + 812, "POST /api/v1/invoices", "status.find.is(201), but actually found 502"));
        assertThat(post.atKill(KILL)).isTrue();
        assertThat(post.atKill(-1)).as("no kill in the run").isFalse();
        assertThat(post.atKill(KILL + 1_000)).as("failed before the kill").isFalse();
        assertThat(post.atKill(KILL - TwoInstances.DEAD_SERVER_DETECTION_MS - 1))
                .as("failed after HAProxy had taken the instance out")
                .isFalse();

        GatlingFailure get = GatlingFailure.of(
                        "2026-12-06T13:16:41.812Z Request 'GET /api/v1/me' failed for user 3: status.find.is(200), but actually found 502")
                .orElseThrow();
        assertThat(get.atKill(KILL))
                .as("HAProxy retries a GET on the other server")
                .isFalse();

        assertThat(GatlingFailure.of("HTTP request:"))
                .as("the debug dump below a failure")
                .isEmpty();
    }
}
