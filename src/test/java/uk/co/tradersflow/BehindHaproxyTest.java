package uk.co.tradersflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import uk.co.tradersflow.loadtest.TwoInstances;
import uk.co.tradersflow.support.Haproxy;
import uk.co.tradersflow.support.TestEnvironment;

/**
 * Two server processes behind a real HAProxy with the repository's conf/haproxy, under a mixed
 * load through the balancer: one instance killed with SIGKILL mid-run and restarted, the other
 * stopped with SIGTERM (a rolling deploy) and restarted; logout-all and a suspension refused on both
 * instances, the lockout and the reset-mail cap counted across both. The scenario is
 * load-tests/two-instances.sh's, shorter and lighter, with the driver's own load instead of
 * Gatling. Skipped only where HAProxy is not installed (.ci/run installs it).
 */
class BehindHaproxyTest {
    @TempDir
    Path work;

    @Test
    void noGetFailsNothingIsLostOrDuplicatedAndGuardsAreSharedWhenOneInstanceIsKilledAndTheOtherRedeployed()
            throws Exception {
        assumeTrue(Haproxy.installed(), "haproxy is not installed (apt-get install -y haproxy)");
        TestEnvironment env = TestEnvironment.get();
        // A database of its own, created by the first server process: counts are the scenario's alone.
        String database = env.database + "_haproxy";
        String host = env.pgHost + ":" + env.pgPort + "/" + database;
        String admin = "postgresql://" + env.adminUser + (env.adminPassword.isEmpty() ? "" : ":" + env.adminPassword)
                + "@" + host;
        try {
            TwoInstances.Report report = TwoInstances.run(new TwoInstances.Options(
                    24,
                    true,
                    true,
                    4,
                    2,
                    25,
                    3,
                    work,
                    admin,
                    "postgresql://tf_app:" + env.appPassword + "@" + host,
                    env.redisUrl,
                    env.redisPrefix + "haproxy-" + UUID.randomUUID().toString().substring(0, 6) + ":",
                    null,
                    0));

            assertThat(report.unexpectedFailures())
                    .as("no GET failed (the balancer retried them), nothing failed in the rolling deploy")
                    .isZero();
            assertThat(report.lines())
                    .anySatisfy(line ->
                            assertThat(line).startsWith("emails: queued").doesNotContain("queued 0 "))
                    .anySatisfy(line -> assertThat(line)
                            .startsWith("stripe events: received")
                            .doesNotContain("received (answered 2xx) 0,"))
                    .anySatisfy(line -> assertThat(line)
                            .matches(
                                    "rolling deploy \\(SIGTERM\\): [1-9][0-9]* requests from the SIGTERM on, failed 0"))
                    .anySatisfy(
                            line -> assertThat(line)
                                    .matches(
                                            "rolling deploy \\(SIGTERM\\), at the balancer: [1-9][0-9]* requests from the SIGTERM on, answered 5xx 0"))
                    .anySatisfy(line ->
                            assertThat(line).startsWith("suspension: both sessions refused (403) on both instances"))
                    .anySatisfy(
                            line -> assertThat(line).startsWith("rate limit: ").endsWith("limited at 3"));
            assertThat(report.ok()).as(String.join("\n", report.lines())).isTrue();
            assertThat(report.lines().get(report.lines().size() - 1)).isEqualTo("lost 0, duplicated 0");
        } finally {
            try (Connection c = env.admin();
                    Statement s = c.createStatement()) {
                s.execute("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
            }
        }
    }
}
