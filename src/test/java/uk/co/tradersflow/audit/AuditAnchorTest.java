package uk.co.tradersflow.audit;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import uk.co.tradersflow.platform.crypto.Es256Jws;
import uk.co.tradersflow.platform.crypto.Pem;
import uk.co.tradersflow.platform.security.ActorType;
import uk.co.tradersflow.support.ScratchDatabase;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.Sql;
import uk.co.tradersflow.support.TestServer;

/**
 * What a database superuser can do to the audit log that its hash chain alone cannot see, seen
 * through the signed checkpoints kept outside the database. The tampering happens on a database of
 * its own, with a server of its own on it, so the run's shared chain stays whole.
 */
class AuditAnchorTest {
    /** The run's database must be prepared by a first server before a scratch one starts (TestServer migrates once). */
    @RegisterExtension
    static final ServerExtension lifecycle = ServerExtension.withDefaults();

    static ScratchDatabase scratch;
    static TestServer server;
    static Connection superuser;
    static AuditLog audit;

    @TempDir
    Path dir;

    @BeforeAll
    static void startOnScratch() throws Exception {
        scratch = ScratchDatabase.latest();
        server = TestServer.start(Map.of(
                "TF_DB_URL", scratch.appUrl(),
                "TF_DB_ADMIN_URL", scratch.adminUrl(),
                // Checkpoints in these tests are taken by hand, into each test's own directory.
                "TF_AUDIT_CHECKPOINT_SECONDS", "3600"));
        superuser = scratch.admin();
        audit = new AuditLog(server.vertx.eventBus());
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) {
            server.close();
        }
        if (superuser != null) {
            superuser.close();
        }
        if (scratch != null) {
            scratch.close();
        }
    }

    /** Appends {@code n} entries one after another and waits until all are sealed; their ids in order. */
    private static List<Long> appendSealed(int n) throws Exception {
        List<Long> ids = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String target = UUID.randomUUID().toString();
            AuditEntry entry = AuditEntry.by(ActorType.SYSTEM, Optional.empty(), Optional.empty(), "test.anchored")
                    .target("test", target)
                    .detail("n", i);
            TestServer.await(server.main.db().asWorker(tx -> audit.append(tx, entry)));
            ids.add(Long.parseLong(
                    Sql.on(superuser).string("SELECT id::text FROM audit_log WHERE target_id = ?", target)));
        }
        long deadline = System.currentTimeMillis() + 5000;
        while (Sql.on(superuser).count("SELECT count(*) FROM audit_log WHERE seal_seq IS NULL") > 0) {
            assertThat(System.currentTimeMillis()).as("sealed in time").isLessThan(deadline);
            Thread.sleep(20);
        }
        return ids;
    }

    private static void asSuperuserWithoutTriggers(String... statements) throws SQLException {
        superuser.setAutoCommit(false);
        try (Statement s = superuser.createStatement()) {
            s.execute("SET LOCAL session_replication_role = replica");
            for (String sql : statements) {
                s.execute(sql);
            }
            superuser.commit();
        } catch (SQLException e) {
            superuser.rollback();
            throw e;
        } finally {
            superuser.setAutoCommit(true);
        }
    }

    private Checkpoint checkpoint(AuditCheckpoints checkpoints) {
        return TestServer.await(checkpoints.take("test-" + UUID.randomUUID())).orElseThrow();
    }

    @Test
    void aChainThatMatchesItsCheckpointsVerifiesOk() throws Exception {
        AuditCheckpoints checkpoints = Anchors.into(server, dir, "test");
        AuditChain chain = new AuditChain(server.main.db(), checkpoints);
        List<Long> ids = appendSealed(3);
        Checkpoint first = checkpoint(checkpoints);
        appendSealed(2);
        Checkpoint second = checkpoint(checkpoints);

        assertThat(first.entryId()).contains(ids.get(2));
        assertThat(second.entries()).isEqualTo(first.entries() + 2);
        AuditChain.Verification v = TestServer.await(chain.verify());
        assertThat(v.ok()).isTrue();
        assertThat(v.checked()).isEqualTo(second.entries());
        assertThat(v.firstBrokenId()).isEmpty();
        assertThat(v.truncatedAfter()).isEmpty();
        assertThat(v.rewrittenBefore()).isEmpty();
        assertThat(v.checkpoints().verified()).isEqualTo(2);
        assertThat(v.checkpoints().forged()).isZero();
        assertThat(v.checkpoints().newest()).contains(second);
        // One JSON line per checkpoint, its readable fields beside the signature.
        List<String> lines =
                Files.readAllLines(new DirectoryAnchorSink(dir, "test", java.time.Clock.systemUTC()).todaysFile());
        assertThat(lines).hasSize(2);
        assertThat(new JsonObject(lines.get(1)).getLong("entryId"))
                .isEqualTo(second.entryId().orElseThrow());
    }

    @Test
    void theNewestEntriesDeletedBySuperuserAreReportedAsTruncatedAfterTheLastOneKept() throws Exception {
        AuditCheckpoints checkpoints = Anchors.into(server, dir, "test");
        AuditChain chain = new AuditChain(server.main.db(), checkpoints);
        List<Long> ids = appendSealed(6);
        Checkpoint signed = checkpoint(checkpoints);
        assertThat(signed.entryId()).contains(ids.get(5));
        assertThat(TestServer.await(chain.verify()).ok()).isTrue();

        asSuperuserWithoutTriggers(
                "DELETE FROM audit_log WHERE id IN (" + ids.get(3) + ", " + ids.get(4) + ", " + ids.get(5) + ")");

        AuditChain.Verification v = TestServer.await(chain.verify());
        assertThat(v.firstBrokenId())
                .as("what is left is a self-consistent chain")
                .isEmpty();
        assertThat(v.ok()).isFalse();
        assertThat(v.truncatedAfter()).contains(ids.get(2));
        assertThat(v.rewrittenBefore()).isEmpty();

        // New entries chained on after the cut do not hide it: the checkpoint still names what is gone.
        appendSealed(2);
        AuditChain.Verification later = TestServer.await(chain.verify());
        assertThat(later.firstBrokenId()).isEmpty();
        assertThat(later.ok()).isFalse();
        assertThat(later.truncatedAfter()).contains(ids.get(2));
    }

    @Test
    void everyHashRewrittenConsistentlyBySuperuserIsReportedAsRewritten() throws Exception {
        AuditCheckpoints checkpoints = Anchors.into(server, dir, "test");
        AuditChain chain = new AuditChain(server.main.db(), checkpoints);
        List<Long> ids = appendSealed(4);
        Checkpoint signed = checkpoint(checkpoints);
        assertThat(TestServer.await(chain.verify()).ok()).isTrue();

        // What an attacker with the database would do: change an entry, then recompute the whole chain.
        asSuperuserWithoutTriggers(
                "UPDATE audit_log SET details = '{\"n\": \"rewritten\"}' WHERE id = " + ids.get(1),
                """
                DO $$
                DECLARE
                  r audit_log;
                  v_prev text := repeat('0', 64);
                BEGIN
                  FOR r IN SELECT * FROM audit_log WHERE seal_seq IS NOT NULL ORDER BY seal_seq LOOP
                    UPDATE audit_log SET prev_hash = v_prev, hash = audit_entry_hash(v_prev, r) WHERE id = r.id
                      RETURNING hash INTO v_prev;
                  END LOOP;
                END $$""");

        AuditChain.Verification v = TestServer.await(chain.verify());
        assertThat(v.firstBrokenId())
                .as("the rewritten chain is self-consistent")
                .isEmpty();
        assertThat(v.ok()).isFalse();
        assertThat(v.rewrittenBefore()).isEqualTo(signed.entryId());
        assertThat(v.truncatedAfter()).isEmpty();
    }

    @Test
    void aCheckpointWithAForgedSignatureOrAlteredFieldsIsReported() throws Exception {
        AuditCheckpoints checkpoints = Anchors.into(server, dir, "test");
        AuditChain chain = new AuditChain(server.main.db(), checkpoints);
        appendSealed(2);
        Checkpoint real = checkpoint(checkpoints);
        assertThat(TestServer.await(chain.verify()).ok()).isTrue();

        // 1. Claims a different head, signed by a key of the forger's own.
        Checkpoint claimed = new Checkpoint(
                "at-1", "forger", real.entryId(), real.entries() + 100, Optional.of("f".repeat(64)), real.takenAt());
        Es256Jws forgersKey = new Es256Jws(Pem.generateP256(), List.of(), AuditCheckpoints.JWS_TYPE);
        String ownKey = claimed.line(forgersKey.sign(claimed.toJson()));
        // 2. The server's signature over one payload, pasted under another.
        String realJws = Anchors.signer(server).sign(real.toJson());
        String[] parts = realJws.split("\\.");
        String swapped = parts[0] + "."
                + Base64.getUrlEncoder()
                        .withoutPadding()
                        .encodeToString(claimed.toJson().encode().getBytes(StandardCharsets.UTF_8))
                + "." + parts[2];
        String pasted = claimed.line(swapped);
        // 3. A genuine signature, with the readable fields beside it edited.
        String edited = new JsonObject(real.line(realJws)).put("entries", 1).encode();
        Files.writeString(
                dir.resolve(DirectoryAnchorSink.PREFIX + "2026-01-01-forger" + DirectoryAnchorSink.SUFFIX),
                ownKey + "\n" + pasted + "\n" + edited + "\nnot json\n",
                StandardOpenOption.CREATE_NEW);

        AuditChain.Verification v = TestServer.await(chain.verify());
        assertThat(v.ok()).isFalse();
        assertThat(v.firstBrokenId()).isEmpty();
        assertThat(v.checkpoints().verified()).isEqualTo(1);
        assertThat(v.checkpoints().forged()).isEqualTo(4);
        assertThat(v.checkpoints().firstForged()).contains("checkpoints-2026-01-01-forger.jsonl:1");
        // Read again, the good line is known by its bytes and the forged ones are checked afresh.
        AuditChain.Verification again = TestServer.await(chain.verify());
        assertThat(again.checkpoints().verified()).isEqualTo(1);
        assertThat(again.checkpoints().forged()).isEqualTo(4);
        assertThat(again.ok()).isFalse();
    }

    @Test
    void aCheckpointSignedWithARetiredKeyStillVerifies() throws Exception {
        java.security.KeyPair retired = Pem.generateP256();
        appendSealed(1);
        Checkpoint old = checkpoint(Anchors.into(server, dir, "test"));
        Es256Jws before = new Es256Jws(retired, List.of(), AuditCheckpoints.JWS_TYPE);
        Files.writeString(
                dir.resolve(DirectoryAnchorSink.PREFIX + "2026-01-01-old" + DirectoryAnchorSink.SUFFIX),
                old.line(before.sign(old.toJson())) + "\n");
        Es256Jws rotated = new Es256Jws(Pem.generateP256(), List.of(retired.getPublic()), AuditCheckpoints.JWS_TYPE);
        AuditCheckpoints afterRotation = new AuditCheckpoints(
                server.vertx,
                server.main.db(),
                rotated,
                List.of(new DirectoryAnchorSink(dir, "test", java.time.Clock.systemUTC())),
                "test",
                java.time.Clock.systemUTC());

        AuditChain.Verification v = TestServer.await(new AuditChain(server.main.db(), afterRotation).verify());
        // The line the old key signed verifies; the one signed before with the server's key, now not configured, does
        // not.
        assertThat(v.checkpoints().verified()).isEqualTo(1);
        assertThat(v.checkpoints().forged()).isEqualTo(1);
        assertThat(v.checkpoints().firstForged().orElseThrow()).doesNotContain("-old");
    }

    @Test
    void verificationsAskedWhileOneRunsShareItAndTheNextOneWalksAgain() throws Exception {
        appendSealed(1);
        AuditChain chain = new AuditChain(server.main.db(), Anchors.into(server, dir, "test"));
        Future<AuditChain.Verification> first = chain.verify();
        Future<AuditChain.Verification> second = chain.verify();
        assertThat(second).isSameAs(first);
        TestServer.await(first);
        // Completion clears it on the event loop just after: the next call starts a walk of its own.
        long deadline = System.currentTimeMillis() + 2000;
        Future<AuditChain.Verification> later = chain.verify();
        while (later == first && System.currentTimeMillis() < deadline) {
            Thread.sleep(10);
            later = chain.verify();
        }
        assertThat(later).isNotSameAs(first);
        assertThat(TestServer.await(later).ok()).isTrue();
    }

    @Test
    void onlyOneInstanceWritesACheckpointItsPeersClaimAtTheSameTime() throws Exception {
        appendSealed(1);
        AuditCheckpoints a = Anchors.into(server, dir, "instance-a");
        AuditCheckpoints b = Anchors.into(server, dir, "instance-b");
        String key = "at-" + UUID.randomUUID();
        List<Optional<Checkpoint>> taken =
                TestServer.await(Future.all(a.take(key), b.take(key))).list();
        assertThat(taken.stream().filter(Optional::isPresent)).hasSize(1);
        List<String> lines = new ArrayList<>();
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                lines.addAll(Files.readAllLines(f));
            }
        }
        assertThat(lines).hasSize(1);
        assertThat(Sql.on(superuser)
                        .count("SELECT count(*) FROM audit_checkpoints WHERE key = ? AND anchored_at IS NOT NULL", key))
                .isEqualTo(1);
    }
}
