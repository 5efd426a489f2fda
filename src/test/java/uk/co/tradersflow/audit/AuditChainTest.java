package uk.co.tradersflow.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.Future;
import io.vertx.core.eventbus.MessageConsumer;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.platform.bus.Addresses;
import uk.co.tradersflow.platform.http.ClientInfo;
import uk.co.tradersflow.platform.security.ActorType;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.Sql;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/** The append-only audit log: sealed after commit into one chain, and any later edit is found. */
class AuditChainTest {
    static TestServer server;
    static AuditLog audit;
    static AuditChain chain;
    static TestUser user;

    @RegisterExtension
    static final ServerExtension lifecycle = ServerExtension.withDefaults().then(s -> {
        server = s;
        audit = new AuditLog(server.vertx.eventBus());
        chain = Anchors.chain(server, java.nio.file.Files.createTempDirectory("tf-audit-anchors"));
        user = new TestUsers(server).create();
    });

    private static Future<Long> append(String action, String note) {
        String detail = note + "-" + UUID.randomUUID();
        AuditEntry entry = AuditEntry.by(ActorType.SYSTEM, Optional.empty(), Optional.of(user.accountId()), action)
                .target("test", detail)
                .detail("note", note);
        return server.main.db().inAccount(user.accountId(), tx -> audit.append(tx, entry)
                .compose(v -> tx.preparedQuery("SELECT id FROM audit_log WHERE action = $1 AND target_id = $2")
                        .execute(io.vertx.sqlclient.Tuple.of(action, detail)))
                .map(rows -> rows.iterator().next().getLong("id")));
    }

    private static Optional<String> hashOf(long id) throws SQLException {
        return Sql.admin().find("SELECT hash FROM audit_log WHERE id = ?", id);
    }

    private static void awaitSealed(List<Long> ids, long withinMs) throws Exception {
        long deadline = System.currentTimeMillis() + withinMs;
        for (long id : ids) {
            while (hashOf(id).isEmpty()) {
                assertThat(System.currentTimeMillis())
                        .as("entry %d sealed in time", id)
                        .isLessThan(deadline);
                Thread.sleep(20);
            }
        }
    }

    @Test
    void anEntryIsSealedShortlyAfterCommitAndTheChainVerifies() throws Exception {
        long id = TestServer.await(append("test.sealed", "one"));
        awaitSealed(List.of(id), 2000);
        AuditChain.Verification v = TestServer.await(chain.verify());
        assertThat(v.ok()).isTrue();
        assertThat(v.firstBrokenId()).isEmpty();
        assertThat(v.checked()).isPositive();
    }

    /**
     * Entries appended together (AuditLog.appendAll, one statement) are stored as each would be
     * alone, in the order given, woken into the chain after commit, and the chain verifies.
     */
    @Test
    void entriesAppendedTogetherKeepTheirOrderAndFieldsAndAreSealed() throws Exception {
        String batch = UUID.randomUUID().toString();
        UUID actor = UUID.randomUUID();
        List<AuditEntry> entries = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            AuditEntry entry = AuditEntry.by(
                            ActorType.USER, Optional.of(actor), Optional.of(user.accountId()), "test.together")
                    .target("test", batch + "-" + i)
                    .detail("place", i);
            entries.add(i == 2 ? entry.from(new ClientInfo.Client("203.0.113.9", "agent \"quoted\"")) : entry);
        }
        AtomicInteger wakings = new AtomicInteger();
        MessageConsumer<Object> sealerSignal =
                server.vertx.eventBus().consumer(Addresses.AUDIT_APPENDED, m -> wakings.incrementAndGet());
        TestServer.await(sealerSignal.completion());
        List<Long> ids =
                TestServer.await(server.main.db().inAccount(user.accountId(), tx -> audit.appendAll(tx, entries)
                        .compose(v -> tx.preparedQuery("SELECT id FROM audit_log WHERE target_id LIKE $1 ORDER BY id")
                                .execute(io.vertx.sqlclient.Tuple.of(batch + "-%")))
                        .map(rows -> {
                            List<Long> found = new ArrayList<>();
                            rows.forEach(r -> found.add(r.getLong("id")));
                            return found;
                        })));
        assertThat(ids).hasSize(5);
        long deadline = System.currentTimeMillis() + 2000;
        while (wakings.get() == 0 && System.currentTimeMillis() < deadline) {
            Thread.sleep(10);
        }
        TestServer.await(sealerSignal.unregister());
        assertThat(wakings.get()).as("the sealer woken by the commit").isPositive();
        assertThat(Sql.admin()
                        .strings(
                                "SELECT target_id || ' ' || (details->>'place') || ' ' || actor_type || ' '"
                                        + " || actor_id || ' ' || coalesce(host(ip), '-') || ' ' || coalesce(user_agent, '-')"
                                        + " FROM audit_log WHERE target_id LIKE ? ORDER BY id",
                                batch + "-%"))
                .containsExactly(
                        batch + "-0 0 user " + actor + " - -",
                        batch + "-1 1 user " + actor + " - -",
                        batch + "-2 2 user " + actor + " 203.0.113.9 agent \"quoted\"",
                        batch + "-3 3 user " + actor + " - -",
                        batch + "-4 4 user " + actor + " - -");
        awaitSealed(ids, 2000);
        assertThat(TestServer.await(chain.verify()).ok()).isTrue();
    }

    @Test
    void anEditedEntryIsNamedAsTheFirstBrokenOne() throws Exception {
        long first = TestServer.await(append("test.before", "before"));
        long target = TestServer.await(append("test.tampered", "original"));
        long after = TestServer.await(append("test.after", "after"));
        awaitSealed(List.of(first, target, after), 2000);
        assertThat(TestServer.await(chain.verify()).ok()).isTrue();
        try {
            // A superuser edit with the guard triggers bypassed: what an attacker with the database would do.
            asSuperuserWithoutTriggers("UPDATE audit_log SET details = '{\"note\": \"forged\"}' WHERE id = " + target);
            AuditChain.Verification v = TestServer.await(chain.verify());
            assertThat(v.ok()).isFalse();
            assertThat(v.firstBrokenId()).contains(target);
        } finally {
            // Put it back, so the shared test database's chain stays whole for other tests.
            asSuperuserWithoutTriggers(
                    "UPDATE audit_log SET details = '{\"note\": \"original\"}' WHERE id = " + target);
        }
        assertThat(TestServer.await(chain.verify()).ok()).isTrue();
    }

    @Test
    void aDeletedEntryBreaksTheChainAtItsSuccessor() throws Exception {
        long target = TestServer.await(append("test.deleted", "gone"));
        long after = TestServer.await(append("test.after_delete", "next"));
        awaitSealed(List.of(target, after), 2000);
        String[] saved = new String[1];
        saved[0] = Sql.admin().string("SELECT row_to_json(a)::text FROM audit_log a WHERE id = " + target);
        try {
            asSuperuserWithoutTriggers("DELETE FROM audit_log WHERE id = " + target);
            AuditChain.Verification v = TestServer.await(chain.verify());
            assertThat(v.ok()).isFalse();
            assertThat(v.firstBrokenId()).contains(after);
        } finally {
            asSuperuserWithoutTriggers(
                    "INSERT INTO audit_log OVERRIDING SYSTEM VALUE SELECT * FROM json_populate_record(null::audit_log, '"
                            + saved[0].replace("'", "''") + "')");
        }
        assertThat(TestServer.await(chain.verify()).ok()).isTrue();
    }

    private static void asSuperuserWithoutTriggers(String sql) throws SQLException {
        try (Connection c = server.env.admin()) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.execute("SET LOCAL session_replication_role = replica");
                s.execute(sql);
            }
            c.commit();
        }
    }

    @Test
    void concurrentWritersAreAllSealedIntoOneConsistentChain() throws Exception {
        List<Future<Long>> writes = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            writes.add(append("test.concurrent", "w" + i));
        }
        List<Long> ids = TestServer.await(Future.all(writes)).list();
        assertThat(ids).doesNotHaveDuplicates().hasSize(60);
        awaitSealed(ids, 5000);
        AuditChain.Verification v = TestServer.await(chain.verify());
        assertThat(v.ok()).isTrue();
        try (Connection c = server.env.admin();
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(
                        "SELECT count(*), count(DISTINCT seal_seq), max(seal_seq) FROM audit_log WHERE seal_seq IS NOT NULL")) {
            rs.next();
            assertThat(rs.getLong(2)).isEqualTo(rs.getLong(1));
            assertThat(rs.getLong(3)).as("no gaps in the chain's sequence").isEqualTo(rs.getLong(1));
            assertThat(rs.getLong(1)).isEqualTo(v.checked());
        }
    }

    @Test
    void theRuntimeRoleCannotUpdateDeleteOrTruncateEntries() throws Exception {
        long id = TestServer.await(append("test.immutable", "fixed"));
        awaitSealed(List.of(id), 2000);
        for (String sql : List.of(
                "UPDATE audit_log SET details = '{}' WHERE id = " + id,
                "DELETE FROM audit_log WHERE id = " + id,
                "TRUNCATE audit_log",
                "UPDATE audit_log SET hash = NULL, seal_seq = NULL WHERE id = " + id)) {
            try (Connection c = server.env.asApp()) {
                c.setAutoCommit(false);
                try (Statement s = c.createStatement()) {
                    s.execute("SELECT set_config('app.account_id', '" + user.accountId() + "', true)");
                    assertThatThrownBy(() -> s.execute(sql)).as(sql).isInstanceOf(SQLException.class);
                }
                c.rollback();
            }
        }
        // Not even the owner role the sealer runs as may rewrite sealed content.
        try (Connection c = server.env.admin()) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.execute("SET LOCAL ROLE tf_owner");
                assertThatThrownBy(() -> s.execute("UPDATE audit_log SET details = '{}' WHERE id = " + id))
                        .isInstanceOf(SQLException.class);
            }
            c.rollback();
        }
        assertThat(hashOf(id)).isPresent();
        assertThat(TestServer.await(chain.verify()).ok()).isTrue();
    }

    @Test
    void anEntryTooLargeToStayInItsRowIsSealedAndVerifiedLikeAnyOther() throws Exception {
        // ~200 kB of details that do not compress: stored out of line, so the guard compares the
        // sealed row's value with the entry's through TOAST.
        long id;
        try (Connection c = server.env.admin();
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(
                        """
                        INSERT INTO audit_log (account_id, actor_type, action, details)
                        SELECT '%s', 'system', 'test.large_entry',
                               jsonb_build_object('blob', string_agg(md5(g::text || random()::text), ''))
                          FROM generate_series(1, 6000) g
                        RETURNING id, pg_column_size(details)"""
                                .formatted(user.accountId()))) {
            rs.next();
            id = rs.getLong(1);
            assertThat(rs.getInt(2)).as("stored size of the details").isGreaterThan(100_000);
        }
        long after = TestServer.await(append("test.after_large", "next"));
        awaitSealed(List.of(id, after), 5000);
        AuditChain.Verification v = TestServer.await(chain.verify());
        assertThat(v.ok()).isTrue();
    }

    @Test
    void sealingMayFillInTheChainColumnsButNotTouchAByteOfTheContent() throws Exception {
        try (Connection c = server.env.admin()) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                // Unsealed, and invisible to the running sealer until this transaction commits (never).
                ResultSet rs = s.executeQuery(
                        """
                        INSERT INTO audit_log (account_id, actor_type, action, ip, details)
                        VALUES ('%s', 'system', 'test.sealing_guard', '203.0.113.7', '{"n": 1.0}')
                        RETURNING id"""
                                .formatted(user.accountId()));
                rs.next();
                long id = rs.getLong(1);
                s.execute("SET LOCAL ROLE tf_owner");
                String seal = "UPDATE audit_log SET seal_seq = 9000000000000 + id, prev_hash = 'p', hash = 'h'";
                for (String change : List.of(
                        ", details = '{\"n\": 1.00}'", // equal as jsonb, another text: another hash
                        ", ip = '203.0.113.7/24'", // the same host: the old canonical check let it through
                        ", user_agent = 'curl'")) {
                    s.execute("SAVEPOINT attempt");
                    String sql = seal + change + " WHERE id = " + id;
                    assertThatThrownBy(() -> s.execute(sql))
                            .as(sql)
                            .isInstanceOf(SQLException.class)
                            .hasMessageContaining("append-only");
                    s.execute("ROLLBACK TO SAVEPOINT attempt");
                }
                assertThat(s.executeUpdate(seal + " WHERE id = " + id))
                        .as("the chain columns alone")
                        .isEqualTo(1);
            }
            c.rollback();
        }
    }
}
