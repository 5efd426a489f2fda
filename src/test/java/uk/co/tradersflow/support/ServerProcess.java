package uk.co.tradersflow.support;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import java.util.stream.Collectors;
import uk.co.tradersflow.Main;

/**
 * The server as an operator runs it, in a process of its own ({@link Main}, production logging),
 * for the tests and load runs that kill it with SIGKILL or stop it with SIGTERM: an in-process
 * server cannot die the way a process does. Its output goes to a log file.
 */
public final class ServerProcess implements AutoCloseable {
    public final String name;
    public final int httpsPort;
    public final int httpPort;
    public final Path log;
    private final Map<String, String> settings;
    private Process process;

    private ServerProcess(String name, Map<String, String> settings, Path log) {
        this.name = name;
        this.settings = Map.copyOf(settings);
        this.httpsPort = Integer.parseInt(settings.get("TF_HTTPS_PORT"));
        this.httpPort = Integer.parseInt(settings.get("TF_HTTP_PORT"));
        this.log = log;
    }

    /**
     * Settings for one instance: {@code shared} (database, Redis, keys, SMTP… the same for every
     * instance) plus free ports of its own. Not started yet.
     */
    public static ServerProcess of(String name, Map<String, String> shared, Path logDir) {
        return of(name, shared, logDir, TestServer::freePort);
    }

    /** The same, its two ports (HTTPS, then plain HTTP) taken from {@code ports}. */
    public static ServerProcess of(String name, Map<String, String> shared, Path logDir, IntSupplier ports) {
        Map<String, String> settings = new HashMap<>(shared);
        settings.put("TF_HTTPS_PORT", Integer.toString(ports.getAsInt()));
        settings.put("TF_HTTP_PORT", Integer.toString(ports.getAsInt()));
        return new ServerProcess(name, settings, logDir.toAbsolutePath().resolve(name + ".log"));
    }

    /** Starts the process (again, after a kill) and waits until it answers {@code /health/ready} with 200. */
    public ServerProcess start() throws IOException, InterruptedException {
        String classPath = Arrays.stream(
                        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"))
                                .split(File.pathSeparator))
                .filter(entry -> !entry.endsWith("test-classes"))
                .map(entry -> Path.of(entry).toAbsolutePath().toString()) // the process runs in a folder of its own
                .collect(Collectors.joining(File.pathSeparator));
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(List.of(
                java,
                "-Xmx256m",
                "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1",
                "-cp",
                classPath,
                Main.class.getName()));
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(Files.createTempDirectory("tf-" + name).toFile()) // no conf/ folder: settings are all below
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        builder.environment().keySet().removeIf(k -> k.startsWith("TF_"));
        builder.environment().putAll(settings);
        process = builder.start();
        awaitReady(Duration.ofSeconds(180)); // a 2-core host under load can take minutes to start a cold JVM
        return this;
    }

    private void awaitReady(Duration within) throws InterruptedException {
        HttpClient http =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        long deadline = System.nanoTime() + within.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException(
                        name + " exited with " + process.exitValue() + " during start; see " + log);
            }
            try {
                HttpResponse<Void> ready = http.send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/health/ready"))
                                .timeout(Duration.ofSeconds(2))
                                .build(),
                        HttpResponse.BodyHandlers.discarding());
                if (ready.statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException(name + " was not ready within " + within + "; see " + log);
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process != null && process.isAlive();
    }

    /** SIGKILL: the process ends at once, finishing nothing (requests, SMTP sends and leases in flight). */
    public void kill9() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** SIGTERM, as an orchestrator stops an instance in a rolling deploy; returns without waiting. */
    public void sigterm() {
        process.destroy();
    }

    /** Waits for the process to exit; its exit code. */
    public int awaitExit(Duration within) throws InterruptedException {
        if (!process.waitFor(within.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException(name + " still running " + within + " after SIGTERM; see " + log);
        }
        return process.exitValue();
    }

    @Override
    public void close() throws InterruptedException {
        if (isAlive()) {
            kill9();
        }
    }
}
