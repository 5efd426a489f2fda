package uk.co.tradersflow.platform.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Prometheus's own tool reads the alert rules: {@code promtool check rules} (syntax, PromQL) and
 * {@code promtool test rules} (each alert's firing and quiet cases in alerts.test.yml). Running it
 * here keeps {@code mvn -B verify} covering what .ci/run covers; without promtool on the PATH
 * (Debian package {@code prometheus}) the test fails and says how to get it.
 */
class PromtoolRulesTest {

    @Test
    void theRulesPassPromtoolsSyntaxCheck() throws Exception {
        assertPasses(List.of(promtool(), "check", "rules", AlertRulesTest.RULES.toString()));
    }

    @Test
    void everyAlertFiresAndStaysQuietAsItsRuleTestsSay() throws Exception {
        assertPasses(List.of(promtool(), "test", "rules", AlertRulesTest.RULE_TESTS.toString()));
    }

    private static String promtool() {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
            Path candidate = Path.of(dir, "promtool");
            if (Files.isExecutable(candidate)) {
                return candidate.toString();
            }
        }
        throw new AssertionError(
                "promtool is not on the PATH: install it with `apt-get install -y prometheus` (.ci/run does)");
    }

    private static void assertPasses(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        // Dozens of rule tests: seconds on a quiet machine, over a minute when the host is busy.
        boolean ended = p.waitFor(240, TimeUnit.SECONDS);
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(ended).as("promtool ended within 240 s").isTrue();
        assertThat(p.exitValue()).as(String.join(" ", command) + "\n" + output).isZero();
    }
}
