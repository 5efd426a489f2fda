package uk.co.tradersflow.admin.report;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.URI;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.OffsetDateTime;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.platform.security.Principal;
import uk.co.tradersflow.support.ScratchDatabase;
import uk.co.tradersflow.support.TestServer;

/**
 * Heap growth while a large audit report is downloaded: N audit entries (default 1,000,000) are
 * seeded in a scratch database (generate_series, as the administrator: the runtime roles may only
 * append), the real server runs on it, and an owner downloads the audit CSV over HTTPS, the
 * client counting and dropping the bytes. Heap in use after a full GC is sampled every
 * second during the download; growth is the highest sample less the sample taken before it. Not
 * part of the default test run (the name does not end in Test):
 * {@code mvn -o test -Dtest=ReportExportMemoryBenchmark -Dsurefire.failIfNoSpecifiedTests=false -Drows=1000000}
 */
class ReportExportMemoryBenchmark {
    private static final Logger log = LoggerFactory.getLogger(ReportExportMemoryBenchmark.class);
    static final long LIMIT_BYTES = 64L * 1024 * 1024;

    @Test
    void aMillionRowAuditExportGrowsTheHeapByLessThan64MiB() throws Exception {
        int rows = Integer.getInteger("rows", 1_000_000);
        String owner = "owner-" + UUID.randomUUID() + "@tradersflow.test";
        try (ScratchDatabase scratch = ScratchDatabase.latest()) {
            long seedStart = System.nanoTime();
            UUID account = UUID.randomUUID();
            UUID user = UUID.randomUUID();
            UUID session = UUID.randomUUID();
            try (Connection c = scratch.admin();
                    Statement s = c.createStatement()) {
                // Sealed already (fake chain values), so the sealer has nothing to do during the download.
                s.execute("INSERT INTO audit_log (occurred_at, account_id, actor_type, actor_id, action, target_type, "
                        + "target_id, ip, user_agent, details, seal_seq, prev_hash, hash) "
                        + "SELECT now() - g * interval '1 second', gen_random_uuid(), 'user', gen_random_uuid(), "
                        + "'bench.entry', 'customer', g::text, '203.0.113.7', 'Mozilla/5.0 (X11; Linux x86_64) bench', "
                        + "jsonb_build_object('n', g, 'note', 'a, \"quoted\" =cell'), g, repeat('0', 64), "
                        + "encode(sha256(g::text::bytea), 'hex') FROM generate_series(1, " + rows + ") g");
                s.execute("ANALYZE audit_log");
                try (PreparedStatement ps =
                        c.prepareStatement("INSERT INTO accounts (id, business_name) VALUES (?, 'TradersFlow')")) {
                    ps.setObject(1, account);
                    ps.executeUpdate();
                }
                try (PreparedStatement ps = c.prepareStatement(
                        "INSERT INTO users (id, account_id, email, email_verified_at, password_set_by_reset_at) "
                                + "VALUES (?, ?, ?, now(), now() - interval '1 minute')")) {
                    ps.setObject(1, user);
                    ps.setObject(2, account);
                    ps.setString(3, owner);
                    ps.executeUpdate();
                }
                try (PreparedStatement ps = c.prepareStatement(
                        "INSERT INTO sessions (id, account_id, user_id, expires_at) VALUES (?, ?, ?, ?)")) {
                    ps.setObject(1, session);
                    ps.setObject(2, account);
                    ps.setObject(3, user);
                    ps.setObject(4, OffsetDateTime.now().plusDays(1));
                    ps.executeUpdate();
                }
            }
            log.info(
                    "seeded {} audit entries in {} s",
                    rows,
                    String.format("%.1f", (System.nanoTime() - seedStart) / 1e9));

            String name = scratch.adminUrl().substring(scratch.adminUrl().lastIndexOf('/') + 1);
            String appUrl = TestServerUrls.appUrlFor(name);
            try (TestServer server = TestServer.start(
                    Map.of("TF_DB_URL", appUrl, "TF_DB_ADMIN_URL", scratch.adminUrl(), "TF_OWNER_EMAILS", owner))) {
                CsvReportService reports = new CsvReportService(
                        server.config.auth(),
                        server.config.links().publicUrl().toString(),
                        server.main.db(),
                        new AuditLog(server.vertx.eventBus()));
                Principal me = new Principal(user, account, session, owner, true, Optional.empty());
                JsonObject prepared = TestServer.await(reports.prepare(UUID.randomUUID(), "audit", me));
                URI url = URI.create(prepared.getString("url"));
                String token = server.main.accessTokens().mint(user, account, session, Optional.empty());

                // A first authenticated request, so the cold JVM's one-time work is not in the figures.
                assertThat(server.send(HttpMethod.GET, "/api/v1/me", token).statusCode())
                        .isEqualTo(200);
                MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
                long baseline = heapAfterGc(memory);
                AtomicLong peak = new AtomicLong(baseline);
                AtomicBoolean downloading = new AtomicBoolean(true);
                Thread sampler = new Thread(() -> {
                    while (downloading.get()) {
                        peak.accumulateAndGet(heapAfterGc(memory), Math::max);
                        try {
                            Thread.sleep(1000);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                });
                HttpClient client = server.vertx.createHttpClient(new HttpClientOptions()
                        .setSsl(true)
                        .setTrustAll(true)
                        .setVerifyHost(false)
                        .setIdleTimeout(120));
                AtomicLong bytes = new AtomicLong();
                AtomicLong lines = new AtomicLong();
                long start = System.nanoTime();
                sampler.start();
                int status;
                try {
                    status = client.request(new RequestOptions()
                                    .setMethod(HttpMethod.GET)
                                    .setHost("localhost")
                                    .setPort(server.config.http().httpsPort())
                                    .setURI(url.getRawPath() + "?" + url.getRawQuery())
                                    .putHeader("Authorization", "Bearer " + token))
                            .compose(req -> req.send())
                            .compose(resp -> {
                                resp.handler(buf -> {
                                    bytes.addAndGet(buf.length());
                                    for (int i = 0; i < buf.length(); i++) {
                                        if (buf.getByte(i) == '\n') {
                                            lines.incrementAndGet();
                                        }
                                    }
                                });
                                return resp.end().map(v -> resp.statusCode());
                            })
                            .toCompletionStage()
                            .toCompletableFuture()
                            .get(20, java.util.concurrent.TimeUnit.MINUTES);
                } finally {
                    downloading.set(false);
                    sampler.join();
                    client.close();
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                long growth = peak.get() - baseline;
                log.info(
                        "REPORT EXPORT BENCHMARK: {} audit rows, {} MiB of CSV in {} s ({} rows/s); heap after GC "
                                + "{} MiB before, peak {} MiB during: growth {} MiB (limit 64 MiB); max heap {} MiB",
                        lines.get() - 1,
                        bytes.get() / (1024 * 1024),
                        String.format("%.1f", seconds),
                        String.format("%.0f", (lines.get() - 1) / seconds),
                        baseline / (1024 * 1024),
                        peak.get() / (1024 * 1024),
                        String.format("%.1f", growth / (1024.0 * 1024)),
                        Runtime.getRuntime().maxMemory() / (1024 * 1024));
                assertThat(status).isEqualTo(200);
                assertThat(lines.get() - 1).isGreaterThanOrEqualTo(rows);
                assertThat(growth).isLessThan(LIMIT_BYTES);
            }
        }
    }

    private static long heapAfterGc(MemoryMXBean memory) {
        System.gc();
        return memory.getHeapMemoryUsage().getUsed();
    }

    /** The runtime login for another database of this run's server. */
    private static final class TestServerUrls {
        static String appUrlFor(String database) {
            String app = uk.co.tradersflow.support.TestEnvironment.get().appUrl();
            return app.substring(0, app.lastIndexOf('/') + 1) + database;
        }
    }
}
