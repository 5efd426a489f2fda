package uk.co.tradersflow.support;

import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;

/**
 * A real HAProxy (Debian package {@code haproxy}) in front of server processes on this host, run
 * with the repository's own {@code conf/haproxy/haproxy.cfg} and {@code servers-local.cfg}, plus a
 * stats listener of the test's own for reading each server's state. It terminates TLS with the
 * servers' certificate and verifies the servers against it.
 */
public final class Haproxy implements AutoCloseable {
    public final int httpsPort;
    public final int httpPort;
    public final int statsPort;
    private final Process process;

    private Haproxy(int httpsPort, int httpPort, int statsPort, Process process) {
        this.httpsPort = httpsPort;
        this.httpPort = httpPort;
        this.statsPort = statsPort;
        this.process = process;
    }

    /** Whether the {@code haproxy} binary is on this machine ({@code .ci/run} installs it). */
    public static boolean installed() {
        return LocalProcesses.installed("haproxy", "-v");
    }

    /**
     * Starts HAProxy in front of {@code s1} and {@code s2}, terminating TLS with the certificate
     * and key in {@code devDir} (the servers' development ones), logging to {@code logDir}.
     */
    public static Haproxy start(ServerProcess s1, ServerProcess s2, Path devDir, Path logDir)
            throws IOException, InterruptedException {
        return start(s1, s2, devDir, logDir, TestServer::freePort);
    }

    /** The same, its HTTPS, plain HTTP and stats ports taken from {@code ports}, in that order. */
    public static Haproxy start(ServerProcess s1, ServerProcess s2, Path devDir, Path logDir, IntSupplier ports)
            throws IOException, InterruptedException {
        return start(
                new int[] {s1.httpsPort, s1.httpPort}, new int[] {s2.httpsPort, s2.httpPort}, devDir, logDir, ports);
    }

    /** The same in front of two servers given as {HTTPS port, plain HTTP port} (in-process test servers). */
    public static Haproxy start(int[] s1, int[] s2, Path devDir, Path logDir) throws IOException, InterruptedException {
        return start(s1, s2, devDir, logDir, TestServer::freePort);
    }

    private static Haproxy start(int[] s1, int[] s2, Path devDir, Path logDir, IntSupplier ports)
            throws IOException, InterruptedException {
        Path certAndKey = logDir.resolve("haproxy-tls.pem");
        Files.writeString(
                certAndKey,
                Files.readString(devDir.resolve("tls-cert.pem")) + Files.readString(devDir.resolve("tls-key.pem")));
        certAndKey.toFile().setReadable(false, false);
        certAndKey.toFile().setReadable(true, true);
        int https = ports.getAsInt();
        int http = ports.getAsInt();
        int stats = ports.getAsInt();
        Path statsCfg = logDir.resolve("haproxy-stats.cfg");
        Files.writeString(
                statsCfg,
                "listen stats\n    bind 127.0.0.1:" + stats + "\n    stats enable\n    stats uri /stats\n",
                StandardCharsets.UTF_8);
        Map<String, String> env = new HashMap<>();
        env.put("HAPROXY_BIND", "127.0.0.1");
        env.put("HAPROXY_HTTPS_PORT", Integer.toString(https));
        env.put("HAPROXY_HTTP_PORT", Integer.toString(http));
        env.put("HAPROXY_PUBLIC_URL", "https://localhost:" + https);
        env.put("HAPROXY_CERT", certAndKey.toString());
        env.put("HAPROXY_CA", devDir.resolve("tls-cert.pem").toString());
        env.put("HAPROXY_VERIFY", "required");
        env.put("TF_SERVER1_HTTPS", Integer.toString(s1[0]));
        env.put("TF_SERVER1_HTTP", Integer.toString(s1[1]));
        env.put("TF_SERVER2_HTTPS", Integer.toString(s2[0]));
        env.put("TF_SERVER2_HTTP", Integer.toString(s2[1]));
        Path conf = Path.of("conf/haproxy").toAbsolutePath();
        ProcessBuilder builder = new ProcessBuilder(
                        "haproxy",
                        "-db",
                        "-f",
                        conf.resolve("haproxy.cfg").toString(),
                        "-f",
                        conf.resolve("servers-local.cfg").toString(),
                        "-f",
                        statsCfg.toString())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(
                        logDir.resolve("haproxy.log").toFile()));
        builder.environment().putAll(env);
        Haproxy haproxy = new Haproxy(https, http, stats, builder.start());
        haproxy.awaitListening();
        return haproxy;
    }

    private void awaitListening() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("haproxy exited with " + process.exitValue() + " (see haproxy.log)");
            }
            try (Socket ignored = new Socket("127.0.0.1", httpsPort)) {
                return;
            } catch (IOException notYet) {
                Thread.sleep(100);
            }
        }
        throw new IllegalStateException("haproxy did not listen within 20 s");
    }

    /** Each server's state as HAProxy sees it ({@code UP}, {@code DOWN}, {@code UP 1/2}…), by server name. */
    public Map<String, String> serverStates() throws IOException, InterruptedException {
        HttpResponse<String> csv = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + statsPort + "/stats;csv"))
                                .timeout(Duration.ofSeconds(5))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        Map<String, String> states = new HashMap<>();
        List<String> lines = csv.body().lines().toList();
        List<String> header = List.of(lines.get(0).replaceFirst("^# ", "").split(","));
        int pxname = header.indexOf("pxname");
        int svname = header.indexOf("svname");
        int status = header.indexOf("status");
        for (String line : lines.subList(1, lines.size())) {
            String[] f = line.split(",", -1);
            if (f.length > status && "tradersflow".equals(f[pxname]) && !f[svname].equals("BACKEND")) {
                states.put(f[svname], f[status]);
            }
        }
        return states;
    }

    /** Until HAProxy sees {@code server} in {@code state} (e.g. "UP", "DOWN"), within {@code within}. */
    public void awaitState(String server, String state, Duration within) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        String seen = null;
        while (System.nanoTime() < deadline) {
            seen = serverStates().get(server);
            if (seen != null && seen.equals(state)) {
                return;
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException(
                "haproxy saw " + server + " as " + seen + ", not " + state + ", after " + within);
    }

    @Override
    public void close() throws InterruptedException {
        LocalProcesses.stop(process);
    }
}
