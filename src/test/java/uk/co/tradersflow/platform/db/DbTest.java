package uk.co.tradersflow.platform.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.Future;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import uk.co.tradersflow.support.Eventually;
import uk.co.tradersflow.support.Sql;
import uk.co.tradersflow.support.TestServer;

/** The one data-access helper: commit, rollback, and a scope that never outlives its transaction. */
class DbTest extends TwoAccountsTest {
    static Pool pool;
    static Pool workerPool;
    static SqlClient reads;
    static Db db;

    @BeforeAll
    static void openOneConnectionPools() {
        // One connection, so consecutive units of work are guaranteed to share it.
        pool = PgBuilder.pool()
                .with(new PoolOptions().setMaxSize(1))
                .connectingTo(PgUrl.parse(server.env.appUrl()).connectOptions())
                .using(server.vertx)
                .build();
        workerPool = PgBuilder.pool()
                .with(new PoolOptions().setMaxSize(1))
                .connectingTo(PgUrl.parse(server.env.workerUrl()).connectOptions())
                .using(server.vertx)
                .build();
        reads = PgBuilder.client()
                .with(new PoolOptions().setMaxSize(1))
                .connectingTo(PgUrl.parse(server.env.appUrl()).connectOptions())
                .using(server.vertx)
                .build();
        db = new Db(
                server.vertx,
                pool,
                reads,
                workerPool,
                PgUrl.parse(server.env.workerUrl()).connectOptions(),
                java.time.Duration.ofMillis(300),
                Db.UNIT_TIMEOUT);
    }

    @AfterAll
    static void stop() {
        TestServer.await(pool.close());
        TestServer.await(reads.close());
        TestServer.await(workerPool.close());
    }

    private static Future<Void> insert(io.vertx.sqlclient.SqlConnection tx, String name) {
        return tx.preparedQuery("INSERT INTO customers (name) VALUES ($1)")
                .execute(Tuple.of(name))
                .mapEmpty();
    }

    private static long rows(UUID account, String name) throws SQLException {
        return Sql.admin().count("SELECT count(*) FROM customers WHERE account_id = ? AND name = ?", account, name);
    }

    @Test
    void aSuccessfulUnitOfWorkCommitsIntoItsAccount() throws SQLException {
        String name = "committed-" + UUID.randomUUID();
        TestServer.await(db.inAccount(a.accountId(), tx -> insert(tx, name)));
        assertThat(rows(a.accountId(), name)).isEqualTo(1);
    }

    @Test
    void aFailingUnitOfWorkRollsBackEverything() throws SQLException {
        String name = "rolled-back-" + UUID.randomUUID();
        assertThatThrownBy(() -> TestServer.await(db.inAccount(a.accountId(), tx -> insert(tx, name)
                        .compose(v -> Future.failedFuture(new IllegalStateException("business rule failed"))))))
                .hasMessageContaining("business rule failed");
        assertThat(rows(a.accountId(), name)).isZero();

        String thrown = "thrown-" + UUID.randomUUID();
        assertThatThrownBy(() -> TestServer.await(db.inAccount(a.accountId(), tx -> {
                    insert(tx, thrown);
                    throw new IllegalArgumentException("thrown synchronously");
                })))
                .hasMessageContaining("thrown synchronously");
        assertThat(rows(a.accountId(), thrown)).isZero();

        String sqlError = "sql-error-" + UUID.randomUUID();
        assertThatThrownBy(() -> TestServer.await(db.inAccount(a.accountId(), tx -> insert(tx, sqlError)
                .compose(v -> tx.query("SELECT 1/0").execute()))));
        assertThat(rows(a.accountId(), sqlError)).isZero();
    }

    private static final ScopedRead CUSTOMER_NAMES = ScopedRead.of("customer_page", 3, "name");

    /**
     * Reads of two accounts, interleaved and all in flight at once on one pipelined connection:
     * each sees its own account's rows and none of the other's, and a read that fails in between
     * (a page of -1 rows) fails alone.
     */
    @Test
    void pipelinedReadsOfDifferentAccountsEachSeeOnlyTheirOwn() {
        String aName = "a-read-" + UUID.randomUUID();
        String bName = "b-read-" + UUID.randomUUID();
        TestServer.await(db.inAccount(a.accountId(), tx -> insert(tx, aName)));
        TestServer.await(db.inAccount(b.accountId(), tx -> insert(tx, bName)));
        Tuple page =
                Tuple.of(java.time.OffsetDateTime.MAX, UUID.fromString("ffffffff-ffff-ffff-ffff-ffffffffffff"), 1000);
        List<Future<List<String>>> asA = new ArrayList<>();
        List<Future<List<String>>> asB = new ArrayList<>();
        List<Future<?>> failing = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            asA.add(db.read(CUSTOMER_NAMES, a.accountId(), page).map(DbTest::names));
            failing.add(db.read(
                    CUSTOMER_NAMES, a.accountId(), Tuple.of(java.time.OffsetDateTime.MAX, UUID.randomUUID(), -1)));
            asB.add(db.read(CUSTOMER_NAMES, b.accountId(), page).map(DbTest::names));
        }
        for (Future<List<String>> names : asA) {
            assertThat(TestServer.await(names)).contains(aName).doesNotContain(bName);
        }
        for (Future<List<String>> names : asB) {
            assertThat(TestServer.await(names)).contains(bName).doesNotContain(aName);
        }
        for (Future<?> f : failing) {
            assertThatThrownBy(() -> TestServer.await(f)).hasMessageContaining("LIMIT");
        }
    }

    private static List<String> names(io.vertx.sqlclient.RowSet<Row> rows) {
        List<String> names = new ArrayList<>();
        rows.forEach(r -> names.add(r.getString(0)));
        return names;
    }

    @Test
    void theAccountSettingDoesNotLeakToTheNextUserOfThePooledConnection() {
        TestServer.await(db.inAccount(a.accountId(), tx -> insert(tx, "a-" + UUID.randomUUID())));
        TestServer.await(db.inAccount(b.accountId(), tx -> insert(tx, "b-" + UUID.randomUUID())));
        // B's unit ran on the same single connection straight after A's: it sees only B's rows.
        var accounts =
                TestServer.await(db.inAccount(b.accountId(), tx -> tx.query("SELECT DISTINCT account_id FROM customers")
                        .execute()));
        assertThat(accounts).extracting(r -> r.getUUID(0)).containsExactly(b.accountId());
        // And outside any unit the setting is gone.
        Row setting = TestServer.await(pool.query("SELECT coalesce(current_setting('app.account_id', true), '') AS v")
                        .execute())
                .iterator()
                .next();
        assertThat(setting.getString("v")).isEmpty();
        // Even after a failed unit.
        assertThatThrownBy(() -> TestServer.await(
                db.inAccount(a.accountId(), tx -> tx.query("SELECT 1/0").execute())));
        Row afterFailure = TestServer.await(
                        pool.query("SELECT coalesce(current_setting('app.account_id', true), '') AS v")
                                .execute())
                .iterator()
                .next();
        assertThat(afterFailure.getString("v")).isEmpty();
    }

    @Test
    void aQueryWithNoAccountSetReturnsNothing() {
        TestServer.await(db.inAccount(a.accountId(), tx -> insert(tx, "visible-only-in-scope")));
        Row count = TestServer.await(
                        pool.query("SELECT count(*) AS n FROM customers").execute())
                .iterator()
                .next();
        assertThat(count.getLong("n")).isZero();
        Row inScope = TestServer.await(db.inAccount(a.accountId(), tx -> tx.query("SELECT count(*) AS n FROM customers")
                        .execute()))
                .iterator()
                .next();
        assertThat(inScope.getLong("n")).isPositive();
    }

    @Test
    void aRowForAnotherAccountCannotBeWrittenFromInsideAScope() {
        assertThatThrownBy(() -> TestServer.await(db.inAccount(a.accountId(), tx -> tx.preparedQuery(
                        "INSERT INTO customers (account_id, name) VALUES ($1, 'smuggled')")
                .execute(Tuple.of(b.accountId())))));
    }

    @Test
    void aSingleRoundTripReadSeesOnlyItsAccount() throws SQLException {
        String name = "read-" + UUID.randomUUID();
        TestServer.await(db.inAccount(a.accountId(), tx -> insert(tx, name)));
        TestServer.await(db.inAccount(b.accountId(), tx -> insert(tx, name)));
        long seen = TestServer.await(db.readInAccount(
                a.accountId(), tx -> tx.preparedQuery("SELECT count(*) AS n FROM customers WHERE name = $1")
                        .execute(Tuple.of(name))
                        .map(rows -> rows.iterator().next().getLong("n"))));
        assertThat(seen).isEqualTo(1);
    }

    @Test
    void aStatementIssuedAfterASingleRoundTripReadIsRefused() {
        String name = "late-" + UUID.randomUUID();
        TestServer.await(db.inAccount(a.accountId(), tx -> insert(tx, name)));
        // Misuse: the second statement is chained, so it would be sent after the pipelined COMMIT.
        assertThatThrownBy(() -> TestServer.await(db.readInAccount(
                        a.accountId(), tx -> tx.query("SELECT 1").execute().compose(v -> tx.preparedQuery(
                                        "SELECT count(*) AS n FROM customers WHERE name = $1")
                                .execute(Tuple.of(name))))))
                .hasMessageContaining("used after its unit of work ended");
    }

    /**
     * The pool has one connection, so B's unit runs on the very connection A's unit was handed. A
     * handle A's code kept past its unit must not run a statement inside B's transaction.
     */
    @Test
    void aConnectionKeptPastItsUnitCannotRunInsideTheNextAccountsUnit() {
        String bName = "b-only-" + UUID.randomUUID();
        TestServer.await(db.inAccount(b.accountId(), tx -> insert(tx, bName)));
        io.vertx.sqlclient.SqlConnection[] kept = new io.vertx.sqlclient.SqlConnection[2];
        TestServer.await(db.inAccount(a.accountId(), tx -> {
            kept[0] = tx;
            return Future.succeededFuture();
        }));
        TestServer.await(db.readInAccount(a.accountId(), tx -> {
            kept[1] = tx;
            return tx.query("SELECT 1").execute();
        }));
        for (io.vertx.sqlclient.SqlConnection stale : kept) {
            assertThatThrownBy(() -> TestServer.await(db.inAccount(b.accountId(), tx -> stale.preparedQuery(
                                    "SELECT count(*) AS n FROM customers WHERE name = $1")
                            .execute(Tuple.of(bName)))))
                    .hasMessageContaining("used after its unit of work ended");
        }
        // A query taken from the connection during the unit, run after it.
        @SuppressWarnings("unchecked")
        io.vertx.sqlclient.PreparedQuery<io.vertx.sqlclient.RowSet<Row>>[] query =
                new io.vertx.sqlclient.PreparedQuery[1];
        TestServer.await(db.inAccount(a.accountId(), tx -> {
            query[0] = tx.preparedQuery("SELECT count(*) AS n FROM customers WHERE name = $1");
            return Future.succeededFuture();
        }));
        assertThatThrownBy(() -> TestServer.await(db.inAccount(b.accountId(), tx -> query[0].execute(Tuple.of(bName)))))
                .hasMessageContaining("used after its unit of work ended");
    }

    /**
     * With the pool's one connection held, the next unit gives up after the borrow timeout (a 503
     * for a request), and the connection it is handed once free goes back to the pool, not lost.
     */
    @Test
    void aUnitFindingNoConnectionFreeInTimeGivesUpWithoutLosingTheConnection() {
        io.vertx.core.Promise<Void> release = io.vertx.core.Promise.promise();
        Future<Void> holding = db.inAccount(a.accountId(), tx -> release.future());
        Future<Integer> waiting = db.readInAccount(
                a.accountId(), tx -> tx.query("SELECT 1").execute().map(rows -> 1));
        assertThatThrownBy(() -> TestServer.await(waiting))
                .hasRootCauseInstanceOf(java.util.concurrent.TimeoutException.class);
        release.complete();
        TestServer.await(holding);
        for (int i = 0; i < 3; i++) {
            int one = TestServer.await(db.readInAccount(
                    a.accountId(), tx -> tx.query("SELECT 1").execute().map(rows -> 1)));
            assertThat(one).as("the pool's one connection is still in service").isEqualTo(1);
        }
    }

    /** A statement run straight on the pool gives up after the same borrow timeout (a 503), not never. */
    @Test
    void aDirectStatementFindingNoConnectionFreeInTimeGivesUp() {
        io.vertx.core.Promise<Void> release = io.vertx.core.Promise.promise();
        Future<Void> holding = db.inAccount(a.accountId(), tx -> release.future());
        Future<Integer> waiting = db.direct(p -> p.query("SELECT 1").execute().map(rows -> 1));
        assertThatThrownBy(() -> TestServer.await(waiting))
                .hasRootCauseInstanceOf(java.util.concurrent.TimeoutException.class);
        release.complete();
        TestServer.await(holding);
        int one = TestServer.await(db.direct(p -> p.query("SELECT 1").execute().map(rows -> 1)));
        assertThat(one).isEqualTo(1);
    }

    /** Transactions and the connection's life are Db's: a unit cannot begin, close or take over its connection. */
    @Test
    void aUnitCannotBeginCloseOrPrepareOnItsConnection() {
        for (java.util.function.Function<io.vertx.sqlclient.SqlConnection, Future<?>> misuse :
                List.<java.util.function.Function<io.vertx.sqlclient.SqlConnection, Future<?>>>of(
                        io.vertx.sqlclient.SqlConnection::begin,
                        io.vertx.sqlclient.SqlConnection::close,
                        tx -> tx.prepare("SELECT 1"),
                        tx -> Future.succeededFuture(tx.closeHandler(v -> {})))) {
            assertThatThrownBy(() -> TestServer.await(db.inAccount(a.accountId(), tx -> misuse.apply(tx))))
                    .isInstanceOf(UnsupportedOperationException.class);
        }
        int one = TestServer.await(db.readInAccount(
                a.accountId(), tx -> tx.query("SELECT 1").execute().map(rows -> 1)));
        assertThat(one).as("and the connection is still in service").isEqualTo(1);
    }

    @Test
    void aOneRoundTripReadIsReadOnlyAndLeavesThePooledConnectionClean() {
        String name = "smuggled-by-read-" + UUID.randomUUID();
        assertThatThrownBy(() -> TestServer.await(
                db.readInAccount(a.accountId(), tx -> tx.preparedQuery("INSERT INTO customers (name) VALUES ($1)")
                        .execute(Tuple.of(name)))));
        assertThatThrownBy(() -> TestServer.await(
                db.readInAccount(a.accountId(), tx -> tx.query("SELECT 1/0").execute())));
        // After the failures the single pooled connection is outside any transaction and carries no account.
        Row after = TestServer.await(pool.query("SELECT coalesce(current_setting('app.account_id', true), '') AS v")
                        .execute())
                .iterator()
                .next();
        assertThat(after.getString("v")).isEmpty();
        Row count = TestServer.await(
                        pool.query("SELECT count(*) AS n FROM customers").execute())
                .iterator()
                .next();
        assertThat(count.getLong("n")).isZero();
    }

    private static final long LOCK = 0x7466_7465_7374_6c6bL;

    private static boolean lockFreeElsewhere() throws SQLException {
        try (Connection c = server.env.admin();
                ResultSet rs = c.createStatement().executeQuery("SELECT pg_try_advisory_lock(" + LOCK + ")")) {
            rs.next();
            boolean taken = rs.getBoolean(1);
            if (taken) {
                // Released here, not by closing: the backend exits after close() returns, and until it
                // has, the next round under test would find the lock held.
                c.createStatement().execute("SELECT pg_advisory_unlock(" + LOCK + ")");
            }
            return taken;
        }
    }

    /** A job that one instance at a time may run: it runs while this instance holds the lock, and releases it after. */
    @Test
    void anExclusiveRoundRunsOnlyWhileHoldingItsLockAndReleasesItWhateverItsOutcome() throws SQLException {
        io.vertx.core.Promise<Void> started = io.vertx.core.Promise.promise();
        io.vertx.core.Promise<String> finishing = io.vertx.core.Promise.promise();
        Future<String> round = db.exclusive(
                LOCK,
                () -> {
                    started.complete();
                    return finishing.future();
                },
                () -> Future.succeededFuture("locked elsewhere"));
        TestServer.await(started.future());
        assertThat(lockFreeElsewhere())
                .as("another instance cannot take the lock during the round")
                .isFalse();
        finishing.complete("ran");
        assertThat(TestServer.await(round)).isEqualTo("ran");
        assertThat(lockFreeElsewhere()).as("released after the round").isTrue();

        assertThatThrownBy(() -> TestServer.await(db.exclusive(
                        LOCK,
                        () -> Future.<String>failedFuture(new IllegalStateException("round failed")),
                        () -> Future.succeededFuture("locked elsewhere"))))
                .hasMessageContaining("round failed");
        assertThat(lockFreeElsewhere()).as("released after a failed round").isTrue();
    }

    @Test
    void anExclusiveRoundDoesNotRunWhileAnotherInstanceHoldsTheLock() throws SQLException {
        try (Connection other = server.env.admin()) {
            other.createStatement().execute("SELECT pg_advisory_lock(" + LOCK + ")");
            String outcome = TestServer.await(db.exclusive(
                    LOCK, () -> Future.succeededFuture("ran"), () -> Future.succeededFuture("locked elsewhere")));
            assertThat(outcome).isEqualTo("locked elsewhere");
            other.createStatement().execute("SELECT pg_advisory_unlock(" + LOCK + ")");
        }
        int one = TestServer.await(db.direct(p -> p.query("SELECT 1").execute().map(rows -> 1)));
        assertThat(one).as("the connection went back to the pool").isEqualTo(1);
    }
    /**
     * A Db over a pool of one connection whose units have a 500 ms budget: a statement that outlives
     * it stands for a database that stopped answering (frozen, or behind a partition).
     */
    private static <T> T withTightBudget(java.util.function.Function<Db, T> use) {
        Pool one = PgBuilder.pool()
                .with(new PoolOptions().setMaxSize(1))
                .connectingTo(PgUrl.parse(server.env.appUrl()).connectOptions())
                .using(server.vertx)
                .build();
        try {
            return use.apply(new Db(
                    server.vertx,
                    one,
                    reads,
                    workerPool,
                    PgUrl.parse(server.env.workerUrl()).connectOptions(),
                    java.time.Duration.ofSeconds(5),
                    java.time.Duration.ofMillis(500)));
        } finally {
            TestServer.await(one.close());
        }
    }

    private static Future<Integer> backendPid(io.vertx.sqlclient.SqlConnection tx) {
        return tx.query("SELECT pg_backend_pid() AS pid")
                .execute()
                .map(rows -> rows.iterator().next().getInteger("pid"));
    }

    /**
     * A unit that outlives its budget answers a TimeoutException (a 503) when the budget is up, not
     * when the database answers; its connection is discarded, not handed to the next unit (whose
     * BEGIN would otherwise queue behind the abandoned statement, and whose COMMIT would commit the
     * abandoned writes), and what it wrote is rolled back.
     */
    @Test
    void aUnitThatOutlivesItsBudgetGivesUpInTimeDiscardsItsConnectionAndCommitsNothing() throws Exception {
        String name = "abandoned-" + UUID.randomUUID();
        withTightBudget(tight -> {
            int before = TestServer.await(tight.readInAccount(a.accountId(), DbTest::backendPid));
            long t0 = System.nanoTime();
            Future<Object> stuck = tight.inAccount(a.accountId(), tx -> insert(tx, name)
                    .compose(v -> tx.query("SELECT pg_sleep(3)").execute())
                    .map(rows -> (Object) rows));
            assertThatThrownBy(() -> TestServer.await(stuck))
                    .hasRootCauseInstanceOf(java.util.concurrent.TimeoutException.class);
            assertThat((System.nanoTime() - t0) / 1_000_000)
                    .as("gave up when its budget was up")
                    .isLessThan(2_000);
            long t1 = System.nanoTime();
            int after = TestServer.await(tight.readInAccount(a.accountId(), DbTest::backendPid));
            assertThat((System.nanoTime() - t1) / 1_000_000)
                    .as("the next unit did not wait behind the abandoned statement")
                    .isLessThan(1_000);
            assertThat(after).as("a new connection, the old one discarded").isNotEqualTo(before);
            return null;
        });
        Thread.sleep(3_500); // past the sleep: the backend has noticed its client is gone
        assertThat(rows(a.accountId(), name)).as("the abandoned unit's write").isZero();
    }

    /**
     * A discarded unit's statement stops on the server within seconds (V056), not when it would
     * have finished: a backend left running holds its locks and a connection slot while the pool
     * opens new connections beside it, until PostgreSQL refuses any more.
     */
    @Test
    void aDiscardedUnitsStatementStopsOnTheServerWithinSeconds() throws Exception {
        AtomicInteger pid = new AtomicInteger();
        withTightBudget(tight -> {
            Future<Object> stuck = tight.inAccount(a.accountId(), tx -> backendPid(tx)
                    .compose(p -> {
                        pid.set(p);
                        return tx.query("SELECT pg_sleep(60)").execute();
                    })
                    .map(rows -> (Object) rows));
            assertThatThrownBy(() -> TestServer.await(stuck))
                    .hasRootCauseInstanceOf(java.util.concurrent.TimeoutException.class);
            return null;
        });
        Eventually.holds(
                "backend " + pid.get() + " gone after its connection was discarded",
                java.time.Duration.ofSeconds(5),
                java.time.Duration.ofMillis(100),
                () -> Sql.admin().count("SELECT count(*) FROM pg_stat_activity WHERE pid = ?", pid.get()) == 0);
    }

    /**
     * A unit whose budget runs out while its COMMIT is in flight (here a deferred trigger makes
     * COMMIT slow) fails with a 503 that says whether it was saved is unknown: it may well have been,
     * so it must not pass for "nothing happened".
     */
    @Test
    void aUnitWhoseBudgetRunsOutDuringItsCommitSaysTheOutcomeIsUnknown() throws Exception {
        String name = "maybe-" + UUID.randomUUID();
        withTightBudget(tight -> {
            Future<Void> committing =
                    // This backend keeps going once its client is gone (V056 would stop the slow
                    // trigger), as a COMMIT already past its triggers does: it commits.
                    tight.inAccount(a.accountId(), tx -> tx.query("SET LOCAL client_connection_check_interval = 0;"
                                    + " CREATE TEMP TABLE slow_commit (x int);"
                                    + " CREATE FUNCTION pg_temp.slow() RETURNS trigger LANGUAGE plpgsql AS"
                                    + " $$ BEGIN PERFORM pg_sleep(1.5); RETURN NULL; END $$;"
                                    + " CREATE CONSTRAINT TRIGGER slow AFTER INSERT ON slow_commit"
                                    + " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION pg_temp.slow();"
                                    + " INSERT INTO slow_commit VALUES (1)")
                            .execute()
                            .compose(v -> insert(tx, name)));
            assertThatThrownBy(() -> TestServer.await(committing))
                    .isInstanceOfSatisfying(uk.co.tradersflow.error.AppError.class, e -> {
                        assertThat(e.code()).isEqualTo(uk.co.tradersflow.error.ErrorCode.SERVICE_UNAVAILABLE);
                        assertThat(e.getMessage()).contains("whether this change was saved");
                    });
            return null;
        });
        Thread.sleep(2_500); // the slow COMMIT finishes on the database's side
        assertThat(rows(a.accountId(), name))
                .as("it was in fact committed: why the answer said unknown")
                .isEqualTo(1);
    }
}
