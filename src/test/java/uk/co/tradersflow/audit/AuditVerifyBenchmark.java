package uk.co.tradersflow.audit;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import uk.co.tradersflow.support.ScratchDatabase;
import uk.co.tradersflow.support.TestServer;

/**
 * How long {@code GET /admin/api/audit/verify}'s work takes, and what heap it needs, on a chain of
 * 10,000 and then 1,000,000 sealed entries: a scratch database is seeded in SQL (the chain computed
 * by {@code audit_entry_hash}, as {@code audit_seal} does, in one pass that inserts sealed rows), a
 * test server is started on it, one checkpoint is anchored, then {@link AuditChain#verify} runs.
 * Heap: used after a full GC before and after, and the highest used figure sampled every 20 ms
 * during the run (garbage included, so an upper bound).
 *
 * <p>Run: {@code mvn -q -o test-compile && mvn -q -o dependency:build-classpath
 * -Dmdep.outputFile=target/cp.txt && java -Xmx256m -cp target/classes:target/test-classes:$(cat
 * target/cp.txt) uk.co.tradersflow.audit.AuditVerifyBenchmark [entries=1000000]}. It uses the
 * test environment's PostgreSQL and drops its database at the end.
 */
public final class AuditVerifyBenchmark {
    private AuditVerifyBenchmark() {}

    /** Appends {@code n} sealed entries to the chain, continuing from its head; one transaction. */
    static final String SEED =
            """
        DO $$
        DECLARE
          r audit_log;
          v_prev text;
          v_seq bigint;
        BEGIN
          SELECT hash, seal_seq INTO v_prev, v_seq FROM audit_log WHERE seal_seq IS NOT NULL ORDER BY seal_seq DESC LIMIT 1;
          v_prev := coalesce(v_prev, repeat('0', 64));
          v_seq := coalesce(v_seq, 0);
          FOR i IN 1..%d LOOP
            r := NULL;
            r.id := nextval(pg_get_serial_sequence('audit_log', 'id'));
            r.occurred_at := clock_timestamp();
            r.account_id := gen_random_uuid();
            r.actor_type := 'user';
            r.actor_id := gen_random_uuid();
            r.action := 'auth.login';
            r.target_type := 'session';
            r.target_id := gen_random_uuid()::text;
            r.ip := '203.0.113.7';
            r.user_agent := 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) TradersFlow/2.3';
            r.details := jsonb_build_object('method', 'password', 'device', 'known', 'n', i);
            v_seq := v_seq + 1;
            r.seal_seq := v_seq;
            r.prev_hash := v_prev;
            r.hash := audit_entry_hash(v_prev, r);
            INSERT INTO audit_log OVERRIDING SYSTEM VALUE SELECT r.*;
            v_prev := r.hash;
          END LOOP;
        END $$""";

    public static void main(String[] args) throws Exception {
        long total = args.length > 0 ? Long.parseLong(args[0]) : 1_000_000;
        long small = Math.min(10_000, total);
        try (ScratchDatabase scratch = ScratchDatabase.latest()) {
            seed(scratch, small);
            TestServer server = TestServer.start(Map.of(
                    "TF_DB_URL", scratch.appUrl(),
                    "TF_DB_ADMIN_URL", scratch.adminUrl(),
                    "TF_AUDIT_CHECKPOINT_SECONDS", "86400"));
            try {
                Path dir = Files.createTempDirectory("tf-bench-anchors");
                AuditCheckpoints checkpoints = Anchors.into(server, dir, "bench");
                AuditChain chain = new AuditChain(server.main.db(), checkpoints);
                measure(server, checkpoints, chain, small);
                if (total > small) {
                    seed(scratch, total - small);
                    measure(server, checkpoints, chain, total);
                }
            } finally {
                server.close();
            }
        }
        System.exit(0);
    }

    private static void seed(ScratchDatabase scratch, long n) throws Exception {
        long start = System.nanoTime();
        try (Connection c = scratch.admin();
                Statement s = c.createStatement()) {
            // In batches of 100,000: one transaction each, so a seed of millions does not hold one open for long.
            for (long done = 0; done < n; done += 100_000) {
                s.execute(SEED.formatted(Math.min(100_000, n - done)));
            }
            s.execute("VACUUM ANALYZE audit_log");
        }
        System.out.printf("seeded %,d sealed entries in %.1f s%n", n, (System.nanoTime() - start) / 1e9);
    }

    private static void measure(TestServer server, AuditCheckpoints checkpoints, AuditChain chain, long entries)
            throws Exception {
        TestServer.await(checkpoints.take("bench-" + entries));
        // A warm-up pass on the small chain only: the first call loads classes and prepares statements.
        if (entries <= 10_000) {
            TestServer.await(chain.verify());
        }
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        System.gc();
        long before = memory.getHeapMemoryUsage().getUsed();
        AtomicLong peak = new AtomicLong(before);
        Thread sampler = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                peak.accumulateAndGet(memory.getHeapMemoryUsage().getUsed(), Math::max);
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        sampler.setDaemon(true);
        sampler.start();
        long start = System.nanoTime();
        // No time limit (TestServer.await has one): the figure is the point.
        AuditChain.Verification v =
                chain.verify().toCompletionStage().toCompletableFuture().get();
        double seconds = (System.nanoTime() - start) / 1e9;
        sampler.interrupt();
        sampler.join();
        System.gc();
        long after = memory.getHeapMemoryUsage().getUsed();
        System.out.printf(
                "verify %,d entries: ok=%s checked=%,d checkpoints=%d in %.2f s = %,.0f entries/s; heap after GC %+.1f MiB"
                        + " (before %.1f MiB), highest sampled during %+.1f MiB, max heap %.0f MiB%n",
                entries,
                v.ok(),
                v.checked(),
                v.checkpoints().verified(),
                seconds,
                v.checked() / seconds,
                (after - before) / 1048576.0,
                before / 1048576.0,
                (peak.get() - before) / 1048576.0,
                memory.getHeapMemoryUsage().getMax() / 1048576.0);
        if (!v.ok() || v.checked() != entries) {
            throw new IllegalStateException("the seeded chain did not verify: " + v);
        }
    }
}
