package uk.co.tradersflow.support;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A real PgBouncer (Debian package {@code pgbouncer}) on a free local port, in transaction mode,
 * in front of this run's PostgreSQL; stopped on close. Version 1.18 on this machine: no
 * protocol-level prepared statements ({@code max_prepared_statements} came in 1.21).
 */
public final class LocalPgBouncer implements AutoCloseable {
    public final int port;
    private final Process process;

    private LocalPgBouncer(int port, Process process) {
        this.port = port;
        this.process = process;
    }

    /** Whether the {@code pgbouncer} binary is on this machine ({@code .ci/run} installs it). */
    public static boolean installed() {
        try {
            Process p = new ProcessBuilder("pgbouncer", "--version")
                    .redirectErrorStream(true)
                    .start();
            p.getInputStream().readAllBytes();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    /** Started in transaction mode, at most {@code serverConnections} connections to PostgreSQL per database and user. */
    public static LocalPgBouncer start(int serverConnections) throws IOException, InterruptedException {
        TestEnvironment env = TestEnvironment.get();
        Path dir = Files.createTempDirectory("tf-pgbouncer");
        int port = TestServer.freePort();
        // PgBouncer logs into PostgreSQL with the password it holds for each user; clients are trusted (loopback only).
        Path users = dir.resolve("userlist.txt");
        Files.writeString(users, "\"tf_app\" \"" + env.appPassword + "\"\n\"tf_worker\" \"" + env.appPassword + "\"\n");
        Path ini = dir.resolve("pgbouncer.ini");
        Files.writeString(
                ini,
                String.join(
                        "\n",
                        "[databases]",
                        "* = host=" + env.pgHost + " port=" + env.pgPort,
                        "[pgbouncer]",
                        "listen_addr = 127.0.0.1",
                        "listen_port = " + port,
                        "unix_socket_dir =",
                        "auth_type = trust",
                        "auth_file = " + users,
                        "pool_mode = transaction",
                        "default_pool_size = " + serverConnections,
                        "max_client_conn = 500",
                        // The reactive client sends this at start-up; PgBouncer does not track it per client.
                        "ignore_startup_parameters = extra_float_digits",
                        "logfile = " + dir.resolve("pgbouncer.log"),
                        "pidfile = " + dir.resolve("pgbouncer.pid"),
                        ""));
        java.util.List<String> command = new java.util.ArrayList<>(java.util.List.of("pgbouncer", ini.toString()));
        if ("root".equals(System.getProperty("user.name"))) {
            // PgBouncer refuses to run as root (CI runs as root): it switches to postgres, which owns its files.
            var postgres = dir.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("postgres");
            for (Path p : java.util.List.of(dir, users, ini)) {
                Files.setOwner(p, postgres);
            }
            command.addAll(java.util.List.of("-u", "postgres"));
        }
        Process process = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("stdout.log").toFile())
                .start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("pgbouncer exited: " + Files.readString(dir.resolve("stdout.log")));
            }
            try (Socket ignored = new Socket("127.0.0.1", port)) {
                return new LocalPgBouncer(port, process);
            } catch (IOException notYet) {
                Thread.sleep(50);
            }
        }
        process.destroyForcibly();
        throw new IllegalStateException("pgbouncer did not listen within 10 s");
    }

    /** This run's database as the runtime role, through PgBouncer. */
    public String appUrl() {
        TestEnvironment env = TestEnvironment.get();
        return "postgresql://tf_app:" + env.appPassword + "@127.0.0.1:" + port + "/" + env.database + "?pgbouncer=true";
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }
}
