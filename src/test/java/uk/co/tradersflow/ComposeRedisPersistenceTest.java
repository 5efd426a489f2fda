package uk.co.tradersflow;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import uk.co.tradersflow.support.TestServer;

/**
 * compose.yaml's Redis keeps what the server puts there across a crash (issue 23 item 24):
 * lockouts and failed sign-in counts live only in Redis, and a restart without persistence
 * forgot a lockout. The very command line compose gives Redis is run here, killed with SIGKILL
 * after a write, and started again. Also: Mailpit publishes its SMTP port (item 14).
 */
class ComposeRedisPersistenceTest {
    @TempDir
    Path dataDir;

    @SuppressWarnings("unchecked")
    private static Map<String, Object> services() throws IOException {
        try (Reader reader = Files.newBufferedReader(Path.of("compose.yaml"), StandardCharsets.UTF_8)) {
            Map<String, Object> compose = new Yaml(new SafeConstructor(new LoaderOptions())).load(reader);
            return (Map<String, Object>) compose.get("services");
        }
    }

    @SuppressWarnings("unchecked")
    @Test
    void composesRedisKeepsALockoutThroughAKillAndRestart() throws Exception {
        Map<String, Object> redis = (Map<String, Object>) services().get("redis");
        List<String> command = new ArrayList<>((List<String>) redis.get("command"));
        assertThat(command).containsSubsequence("--appendonly", "yes").containsSubsequence("--appendfsync", "everysec");
        assertThat((List<String>) redis.get("volumes"))
                .as("the data directory outlives the container")
                .anyMatch(v -> v.endsWith(":/data"));

        int port = TestServer.freePort();
        command.addAll(List.of(
                "--port",
                Integer.toString(port),
                "--bind",
                "127.0.0.1",
                "--dir",
                dataDir.toString(),
                "--daemonize",
                "no"));
        Process first = start(command, port);
        try {
            assertThat(cli(port, "SET", "tf:lockout:someone", "locked")).isEqualTo("OK");
            Thread.sleep(1_500); // everysec: the write reaches the disk within a second
        } finally {
            first.destroyForcibly().waitFor(10, TimeUnit.SECONDS); // SIGKILL: no shutdown save
        }
        Process second = start(command, port);
        try {
            assertThat(cli(port, "GET", "tf:lockout:someone"))
                    .as("the lockout survived the crash")
                    .isEqualTo("locked");
        } finally {
            second.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    @SuppressWarnings("unchecked")
    @Test
    void mailpitPublishesSmtpForAServerRunOnTheHost() throws Exception {
        Map<String, Object> mailpit = (Map<String, Object>) services().get("mailpit");
        assertThat((List<String>) mailpit.get("ports")).contains("1025:1025", "8025:8025");
    }

    /** compose's command with "redis-server" from this machine; answers once Redis answers PING. */
    private static Process start(List<String> command, int port) throws Exception {
        Process p = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < deadline) {
            if ("PONG".equals(cli(port, "PING"))) {
                return p;
            }
            Thread.sleep(50);
        }
        p.destroyForcibly();
        throw new AssertionError("redis-server did not start on port " + port);
    }

    private static String cli(int port, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("redis-cli", "-h", "127.0.0.1", "-p", Integer.toString(port)));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        p.waitFor(5, TimeUnit.SECONDS);
        return out;
    }
}
