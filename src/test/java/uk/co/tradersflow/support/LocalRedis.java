package uk.co.tradersflow.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A {@code redis-server} process of the test's own, on a port of its own (never the shared 6379),
 * for tests that need a Redis they may kill, freeze or restart: its data lives in a temporary
 * directory and goes with it. Each process is ended by its own handle, and a JVM that exits
 * without closing it ends it too.
 */
public final class LocalRedis implements AutoCloseable {
    private static final Set<Process> RUNNING = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime()
                .addShutdownHook(new Thread(() -> RUNNING.forEach(Process::destroyForcibly), "stop-local-redis"));
    }

    public final int port;
    public final Path dir;
    private final List<String> args;
    private Process process;

    private LocalRedis(int port, Path dir, List<String> args) {
        this.port = port;
        this.dir = dir;
        this.args = args;
    }

    /**
     * A plain Redis on a free port, nothing persisted, with {@code more} arguments of
     * {@code redis-server} (such as {@code --appendonly yes}) after the defaults.
     */
    public static LocalRedis start(String... more) {
        return start(freePort(), more);
    }

    /** As {@link #start(String...)} on this port. */
    public static LocalRedis start(int port, String... more) {
        Path dir = tempDir("tf-redis-" + port);
        List<String> args = new ArrayList<>(List.of(
                "--port",
                Integer.toString(port),
                "--bind",
                "127.0.0.1",
                "--dir",
                dir.toString(),
                "--save",
                "",
                "--appendonly",
                "no",
                "--logfile",
                dir.resolve("redis.log").toString()));
        args.addAll(List.of(more));
        return started(port, dir, args);
    }

    /** {@code redis-server} with exactly these arguments (a config file, {@code --sentinel}…), listening on {@code port}. */
    static LocalRedis started(int port, Path dir, List<String> args) {
        LocalRedis redis = new LocalRedis(port, dir, List.copyOf(args));
        redis.launch();
        return redis;
    }

    /** A port that is free, and whose cluster bus port (+10000) is free too. */
    public static int freePort() {
        for (int i = 0; i < 200; i++) {
            int port = ThreadLocalRandom.current().nextInt(20_000, 30_000);
            if (free(port) && free(port + 10_000)) {
                return port;
            }
        }
        throw new IllegalStateException("no free port pair for a Redis");
    }

    private static boolean free(int port) {
        try (ServerSocket s = new ServerSocket(port)) {
            s.setReuseAddress(true);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    static Path tempDir(String prefix) {
        try {
            return Files.createTempDirectory(prefix);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private void launch() {
        List<String> command = new ArrayList<>();
        command.add("redis-server");
        command.addAll(args);
        try {
            process = new ProcessBuilder(command)
                    .directory(dir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(dir.resolve("stdout.log").toFile())
                    .start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start redis-server (is it installed?)", e);
        }
        RUNNING.add(process);
        awaitAnswering();
    }

    public String url() {
        return "redis://127.0.0.1:" + port;
    }

    /** The server's settings for this Redis alone. */
    public Map<String, String> settings() {
        return Map.of("TF_REDIS_MODE", "standalone", "TF_REDIS_URL", url());
    }

    /** Ends the process at once (SIGKILL), as a crash or an OOM kill would. */
    public void kill() {
        if (process != null) {
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            RUNNING.remove(process);
            process = null;
        }
    }

    /** Starts it again on the same port and directory (what it persisted, if anything, comes back). */
    public void restart() {
        kill();
        launch();
    }

    /** Freezes the process (SIGSTOP): connections stay open and nothing is answered, as with a hung server. */
    public void freeze() {
        signal("-STOP");
    }

    /** Lets a frozen process run again (SIGCONT). */
    public void thaw() {
        signal("-CONT");
    }

    private void signal(String signal) {
        run(List.of("kill", signal, Long.toString(process.pid())));
    }

    /** {@code redis-cli -p port args…}: its output. */
    public String cli(String... cliArgs) {
        List<String> command = new ArrayList<>(List.of("redis-cli", "-p", Integer.toString(port)));
        command.addAll(List.of(cliArgs));
        return run(command);
    }

    static String run(List<String> command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException(command + " failed: " + out);
            }
            return out;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Until it answers PING (10 s at most). */
    private void awaitAnswering() {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("redis-server on " + port + " exited: " + log());
            }
            if (pings()) {
                return;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        throw new IllegalStateException("redis-server on " + port + " never answered: " + log());
    }

    private boolean pings() {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(500);
            OutputStream out = s.getOutputStream();
            out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            byte[] reply = new byte[7];
            int n = in.read(reply);
            return n > 0 && new String(reply, 0, n, StandardCharsets.US_ASCII).startsWith("+PONG");
        } catch (IOException e) {
            return false;
        }
    }

    private String log() {
        try {
            Path log = Files.exists(dir.resolve("redis.log")) ? dir.resolve("redis.log") : dir.resolve("stdout.log");
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log)";
        }
    }

    @Override
    public void close() {
        kill(); // SIGKILL ends a frozen process too
        deleteQuietly(dir);
    }

    static void deleteQuietly(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a temporary directory left behind is harmless
        }
    }
}
