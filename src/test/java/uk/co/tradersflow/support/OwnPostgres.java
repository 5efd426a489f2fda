package uk.co.tradersflow.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import uk.co.tradersflow.Main;
import uk.co.tradersflow.platform.db.DatabaseBootstrap;
import uk.co.tradersflow.platform.db.PgUrl;

/**
 * A PostgreSQL server of the test's own, for the faults a test causes on purpose: stopped and
 * started again while a server uses it. Never the machine's shared one on 5432, which every other
 * test run is using. The cluster lives in a temporary directory owned by the {@code postgres} OS
 * user (the server refuses to run as root), listens on 127.0.0.1 and a free port with trust
 * authentication, and is stopped and deleted by {@link #close()}. Without the binaries (or without
 * root, to run them as {@code postgres}) the test is skipped, saying so.
 */
public final class OwnPostgres implements AutoCloseable {
    private static final Path BIN = Path.of("/usr/lib/postgresql/15/bin");
    private static final String DATABASE = "tradersflow";
    private static final String APP_PASSWORD = "tf-app-own";

    private final Path root;
    private final Path data;
    private final Path log;
    public final int port;

    private OwnPostgres(Path root, int port) {
        this.root = root;
        this.data = root.resolve("data");
        this.log = root.resolve("postgres.log");
        this.port = port;
    }

    /** initdb, started, the server's database created and migrated. */
    public static OwnPostgres start() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(BIN.resolve("initdb")), "PostgreSQL 15 binaries at " + BIN);
        Assumptions.assumeTrue(
                "root".equals(System.getProperty("user.name")), "root, to run a cluster of our own as postgres");
        Path root = Files.createTempDirectory("tf-own-pg");
        run("chown", "postgres", root.toString());
        OwnPostgres pg = new OwnPostgres(root, TestServer.freePort());
        try {
            pg.asPostgres(
                    BIN.resolve("initdb").toString(),
                    "-D",
                    pg.data.toString(),
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "--no-sync",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8");
            pg.startAgain();
            new DatabaseBootstrap(
                            PgUrl.parse(pg.adminUrl()),
                            PgUrl.parse(pg.appUrl()),
                            DatabaseBootstrap.workerUrl(pg.appUrl(), Optional.empty()))
                    .prepare(true, Main.MIGRATIONS, Duration.ofSeconds(30));
        } catch (Exception | Error e) {
            pg.close();
            throw e;
        }
        return pg;
    }

    /** The settings that point a server at this cluster. */
    public java.util.Map<String, String> settings() {
        return java.util.Map.of("TF_DB_URL", appUrl(), "TF_DB_ADMIN_URL", adminUrl());
    }

    public String appUrl() {
        return "postgresql://tf_app:" + APP_PASSWORD + "@127.0.0.1:" + port + "/" + DATABASE;
    }

    public String adminUrl() {
        return "postgresql://postgres@127.0.0.1:" + port + "/" + DATABASE;
    }

    /** A JDBC connection as the superuser, for set-up and for counting rows behind the server's back. */
    public Connection admin() throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + DATABASE, "postgres", "");
    }

    /**
     * Stops it as an operator's restart does ({@code pg_ctl stop -m fast}): every session is
     * terminated and its transaction rolled back, the listener closes; returns once it is down.
     */
    public void stop() throws Exception {
        asPostgres(BIN.resolve("pg_ctl").toString(), "-D", data.toString(), "-m", "fast", "-w", "stop");
    }

    /** Starts it (again) on the same port and data; returns once it accepts connections. */
    public void startAgain() throws Exception {
        asPostgres(
                BIN.resolve("pg_ctl").toString(),
                "-D",
                data.toString(),
                "-l",
                log.toString(),
                "-w",
                "-t",
                "30",
                "-o",
                "-p " + port + " -k " + root + " -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60",
                "start");
    }

    /**
     * Freezes it (SIGSTOP to the postmaster and every backend of this cluster, by process id): a
     * PostgreSQL that still holds its connections open but answers nothing, as behind a network
     * partition or a stalled disk. {@link #thaw()} lets it go on.
     */
    public void freeze() throws Exception {
        signal("-STOP");
    }

    public void thaw() throws Exception {
        signal("-CONT");
    }

    private void signal(String signal) throws Exception {
        long postmaster = Long.parseLong(
                Files.readAllLines(data.resolve("postmaster.pid")).get(0).trim());
        List<String> command = new ArrayList<>(List.of("kill", signal, Long.toString(postmaster)));
        ProcessHandle.of(postmaster).orElseThrow().descendants().forEach(p -> command.add(Long.toString(p.pid())));
        run(command.toArray(String[]::new));
    }

    private void asPostgres(String... command) throws Exception {
        List<String> full = new ArrayList<>(List.of("runuser", "-u", "postgres", "--"));
        full.addAll(List.of(command));
        run(full.toArray(String[]::new));
    }

    private static void run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed: " + output);
        }
    }

    /** Stopped (immediately: nothing of it is kept) and deleted. */
    @Override
    public void close() throws Exception {
        try {
            if (Files.exists(data.resolve("postmaster.pid"))) {
                asPostgres(BIN.resolve("pg_ctl").toString(), "-D", data.toString(), "-m", "immediate", "-w", "stop");
            }
        } finally {
            try (Stream<Path> files = Files.walk(root)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
