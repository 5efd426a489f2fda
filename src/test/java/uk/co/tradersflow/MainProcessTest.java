package uk.co.tradersflow;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import uk.co.tradersflow.support.TestEnvironment;
import uk.co.tradersflow.support.TestServer;

/**
 * The server as an operator runs it: {@link Main} in a process of its own, with the production
 * logging setup (src/main/resources/logback.xml; the in-process tests run with logback-test.xml)
 * writing to a pipe, as it would to a container runtime or a log collector.
 */
class MainProcessTest {

    /** The class path without test classes, so the process reads the production logback.xml. */
    private static ProcessBuilder mainProcess(Map<String, String> settings, String... args) throws Exception {
        String classPath = Arrays.stream(
                        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"))
                                .split(File.pathSeparator))
                .filter(entry -> !entry.endsWith("test-classes"))
                .collect(Collectors.joining(File.pathSeparator));
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(List.of(java, "-Xmx256m", "-cp", classPath, Main.class.getName()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(
                        Files.createTempDirectory("tf-process").toFile()) // no conf/ folder: the settings below are all
                .redirectErrorStream(true);
        builder.environment().clear();
        builder.environment().putAll(settings);
        return builder;
    }

    private static List<String> lines(Process process) throws Exception {
        try (BufferedReader out =
                new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            return out.lines().toList();
        }
    }

    @Test
    void aBadSettingStopsStartUpWithOneLineThatNamesItAndNoSecret() throws Exception {
        String secret = "sk_test_" + Long.toHexString(System.nanoTime()) + "NeverPrinted";
        Process process = mainProcess(Map.of("TF_HTTPS_PORT", "eighty", "TF_STRIPE_SECRET_KEY", secret))
                .start();
        List<String> output = lines(process);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();

        assertThat(process.exitValue()).isEqualTo(2);
        assertThat(output)
                .as("written out before the exit, though logging is asynchronous")
                .hasSize(1);
        assertThat(output.get(0)).contains("ERROR").contains("TF_HTTPS_PORT").doesNotContain(secret);
    }

    @Test
    void aProductionAddressWithADevelopmentKeyIsRefusedBeforeTheDatabaseIsTouched() throws Exception {
        // Nothing listens on this database port: reaching for it first would wait a minute, not exit at once.
        Process process = mainProcess(Map.of(
                        "TF_PUBLIC_URL",
                        "https://api.tradersflow.co.uk",
                        "TF_DB_ADMIN_URL",
                        "postgresql://postgres@127.0.0.1:" + TestServer.freePort() + "/tf"))
                .start();
        List<String> output = lines(process);
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).isEqualTo(2);
        assertThat(output).hasSize(1);
        assertThat(output.get(0))
                .contains("setting TF_JWT_PRIVATE_KEY must be set")
                .contains("TF_PUBLIC_URL");
    }

    @Test
    void anIncidentCommandRunsThroughMainAndExitsWithItsOwnCode() throws Exception {
        String pem = uk.co.tradersflow.platform.crypto.Pem.privateKeyPem(
                uk.co.tradersflow.platform.crypto.Pem.generateP256().getPrivate());
        Process process =
                mainProcess(Map.of("TF_JWT_PRIVATE_KEY", pem), "rotate-jwt-key").start();
        List<String> output = lines(process);
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).isEqualTo(2);
        assertThat(String.join("\n", output))
                .contains("rotate-jwt-key: TF_JWT_PRIVATE_KEY is set inline")
                .doesNotContain(pem.lines().skip(1).findFirst().orElseThrow());
    }

    /**
     * A port in use stops start-up before the database is touched: here PostgreSQL is unreachable,
     * so a server that migrated first would wait its full minute for it and then name the database.
     */
    @Test
    void aPortInUseStopsStartUpBeforeTheMigrationsWithOneLineNamingTheSettingAndPort() throws Exception {
        for (String setting : List.of("TF_HTTPS_PORT", "TF_HTTP_PORT")) {
            try (java.net.ServerSocket taken = new java.net.ServerSocket(0)) {
                int port = taken.getLocalPort();
                Map<String, String> settings = new java.util.HashMap<>(Map.of(
                        "TF_HTTPS_PORT",
                        Integer.toString(TestServer.freePort()),
                        "TF_HTTP_PORT",
                        Integer.toString(TestServer.freePort()),
                        "TF_DB_URL",
                        "postgresql://tf_app@127.0.0.1:1/tradersflow",
                        "TF_DB_ADMIN_URL",
                        "postgresql://postgres@127.0.0.1:1/tradersflow"));
                settings.put(setting, Integer.toString(port));
                Process process = mainProcess(settings).start();
                assertThat(process.waitFor(30, TimeUnit.SECONDS))
                        .as("stopped at once, not after waiting for PostgreSQL")
                        .isTrue();
                List<String> output = lines(process);

                assertThat(process.exitValue()).isEqualTo(2);
                assertThat(output).as(setting).hasSize(1);
                assertThat(output.get(0))
                        .contains("ERROR")
                        .contains(setting)
                        .contains("port " + port)
                        .contains("already in use");
            }
        }
    }

    /**
     * A log collector that stops reading must not stop the server: with nobody reading its output
     * (the pipe's 64 KiB fill after a few hundred request lines) it keeps answering, and once read
     * again its output is JSON lines, free of the tokens it was sent, ending with the shutdown.
     */
    @Test
    void theServerKeepsAnsweringWhileNobodyReadsItsLogAndFlushesItAtShutdown() throws Exception {
        TestEnvironment env = TestEnvironment.get();
        int https = TestServer.freePort();
        Path dev = Files.createTempDirectory("tf-process-dev");
        Map<String, String> settings = new java.util.HashMap<>(Map.of(
                "TF_HTTPS_PORT",
                Integer.toString(https),
                "TF_HTTP_PORT",
                Integer.toString(TestServer.freePort()),
                "TF_PUBLIC_URL",
                "https://localhost:" + https,
                "TF_LOG_FORMAT",
                "json",
                "TF_DB_URL",
                env.appUrl(),
                "TF_DB_ADMIN_URL",
                env.adminUrl(),
                "TF_REDIS_URL",
                env.redisUrl,
                "TF_REDIS_KEY_PREFIX",
                env.redisPrefix,
                "TF_DEV_DATA_DIR",
                dev.toString(),
                "TF_STORAGE_DIR",
                dev.resolve("files").toString()));
        settings.put("TF_AUDIT_ANCHOR_DIR", dev.resolve("audit-anchors").toString());
        // A short drain keeps the test quick; Terraform's variables on the host must not be warned about.
        settings.putAll(
                Map.of("TF_SHUTDOWN_DRAIN_SECONDS", "1", "TF_VAR_region", "eu-west-2", "TF_IN_AUTOMATION", "1"));
        Process process = mainProcess(settings).start();
        Vertx vertx = Vertx.vertx();
        String token = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJwcm9jZXNzIn0.NotARealSignatureButSecretAll" + System.nanoTime();
        try {
            WebClient client = WebClient.create(vertx, uk.co.tradersflow.support.TrustAllTls.webClient(https));
            awaitStarted(client, process);

            assertThat(TestServer.await(client.request(HttpMethod.GET, "/api/v1/customers")
                                    .bearerTokenAuthentication(token)
                                    .timeout(5_000)
                                    .send())
                            .statusCode())
                    .isEqualTo(401);
            for (int i = 0; i < 3_000; i++) {
                assertThat(TestServer.await(client.request(HttpMethod.GET, "/health/live")
                                        .timeout(5_000)
                                        .send())
                                .statusCode())
                        .as("request %d, its log unread", i)
                        .isEqualTo(200);
            }

            List<String> output = new ArrayList<>();
            Thread reader = new Thread(() -> {
                try {
                    output.addAll(lines(process));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            reader.start();
            // SIGTERM, as an orchestrator stops a container; Process.destroy() would also close our end of the pipe.
            process.toHandle().destroy();
            assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
            reader.join(10_000);

            assertThat(output).isNotEmpty().allSatisfy(line -> assertThat(new JsonObject(line).getString("level"))
                    .isNotBlank());
            assertThat(output).anySatisfy(line -> assertThat(new JsonObject(line).getString("message"))
                    .contains("route=/health/live"));
            assertThat(String.join("\n", output)).doesNotContain(token).doesNotContain("NotARealSignatureButSecretAll");
            assertThat(output)
                    .as("logged as the process stops, and still written out")
                    .anySatisfy(line -> assertThat(new JsonObject(line).getString("message"))
                            .startsWith("shutting down"));
            assertThat(new JsonObject(output.get(output.size() - 1)).getString("message"))
                    .as("the last line")
                    .isEqualTo("stopped");
            assertThat(output)
                    .as("a start with nothing wrong warns only about its development defaults")
                    .noneSatisfy(line -> assertThat(new JsonObject(line).getString("message"))
                            .contains("already registered"))
                    .noneSatisfy(line -> assertThat(new JsonObject(line).getString("message"))
                            .contains("unknown environment variable"));
        } finally {
            process.destroyForcibly();
            TestServer.await(vertx.close());
        }
    }

    private static void awaitStarted(WebClient client, Process process) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (System.nanoTime() < deadline) {
            assertThat(process.isAlive()).as("the server process is running").isTrue();
            try {
                if (TestServer.await(client.request(HttpMethod.GET, "/health/live")
                                        .timeout(2_000)
                                        .send())
                                .statusCode()
                        == 200) {
                    return;
                }
            } catch (RuntimeException notYet) {
                // not listening yet
            }
            Thread.sleep(200);
        }
        throw new AssertionError("the server process did not start in 90 s");
    }
}
