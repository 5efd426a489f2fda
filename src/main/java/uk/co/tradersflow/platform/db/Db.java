package uk.co.tradersflow.platform.db;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import io.vertx.sqlclient.impl.SocketConnectionBase;
import io.vertx.sqlclient.internal.SqlConnectionInternal;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;

/**
 * The only way the server reaches the database at run time. A caller chooses one of three access
 * modes, by whose rows it touches:
 *
 * <ul>
 *   <li><b>Account-scoped</b>, for anything a request does with its account's data:
 *       {@link #inAccount} (a read-write unit of work), {@link #readInAccount} (a read of one
 *       statement in one round trip) and {@link #read} (the list pages, through a {@link ScopedRead}
 *       function, pipelined). Each runs as the runtime role with {@code app.account_id} set, so the
 *       database's row-level security policies, not the code, decide which rows exist.
 *   <li><b>Worker</b>, for the few jobs that must cross accounts (email dispatch, webhook effects,
 *       retention, sweepers): {@link #asWorker}, a unit of work as the narrowly granted worker role.
 *   <li><b>System</b>, for statements that touch no account data (a health check, a SECURITY
 *       DEFINER lookup, the audit chain): {@link #direct}, or {@link #lookup} for the quick one on
 *       every request's path; {@link #exclusive} for a job that one instance at a time may run.
 * </ul>
 *
 * <p>The variants within a mode differ only in cost: a unit of work is the general case, the
 * others save round trips on measured hot paths. A unit of work's {@link Tx} takes
 * {@linkplain Tx#afterCommit after-commit hooks}, so whoever writes an outbox row or an audit
 * entry wakes its reader without the caller remembering to.
 *
 * <p>The account scope is transaction-local: it cannot leak to the next user of the pooled
 * connection. BEGIN, the set_config and the work's first statement are written to the connection
 * together (the client pipelines them), so the RLS scope costs no extra round trip.
 *
 * <p>Every unit of work is bounded twice: by the {@linkplain #BORROW_TIMEOUT borrow timeout} while it
 * waits for a connection, and by its budget ({@link #UNIT_TIMEOUT}) from the moment it holds one
 * to its COMMIT's answer. A unit that outlives its budget (a PostgreSQL that is frozen, or behind a
 * partition, holds the connection open and answers nothing) fails with a {@link TimeoutException}
 * (a 503), and its connection is discarded, not returned to the pool: what the database answers
 * later can never reach a later unit, and PostgreSQL rolls back the transaction of a connection
 * that went away. Only when COMMIT had been sent is the outcome unknown; the unit then fails with
 * a 503 that says so (see {@link #outcomeUnknown}).
 */
public final class Db {
    private static final Logger log = LoggerFactory.getLogger(Db.class);
    private static final String SET_ACCOUNT = "SELECT set_config('app.account_id', $1, true)";
    private static final String TRY_XACT_LOCK = "SELECT pg_try_advisory_xact_lock($1) AS locked";

    /** How long a unit waits for a free connection before the request gets a 503. */
    public static final Duration BORROW_TIMEOUT = Duration.ofSeconds(5);

    /**
     * How long a unit of work may take once it holds its connection, up to its COMMIT's answer,
     * before the request gets a 503 and the connection is discarded. Units are a few milliseconds
     * each; a job with a slow statement of its own passes a longer budget ({@link #asWorker(Duration,
     * Function)}).
     */
    public static final Duration UNIT_TIMEOUT = Duration.ofSeconds(5);

    private final Vertx vertx;
    private final Pool pool;
    private final SqlClient reads;
    private final Pool workerPool;
    private final PgConnectOptions workerLogin;
    private final long borrowTimeoutMs;
    private final long unitTimeoutMs;

    /**
     * {@code pool} and {@code reads} log in as {@code tf_app}, {@code workerPool} (and
     * {@code workerLogin}) as {@code tf_worker}. {@code reads} is a pipelining client
     * ({@code PgBuilder.client()}) for {@link #read}: statements of many requests in flight on each
     * of a few connections, so PostgreSQL takes a batch per wakeup instead of waking once per
     * request. All three must be built without a connection timeout of their own: {@link #borrow}
     * and {@link #direct} keep the time instead. {@code unitTimeout} is each unit of work's budget
     * once it holds its connection ({@link #UNIT_TIMEOUT} in production).
     */
    public Db(
            Vertx vertx,
            Pool pool,
            SqlClient reads,
            Pool workerPool,
            PgConnectOptions workerLogin,
            Duration borrowTimeout,
            Duration unitTimeout) {
        this.vertx = vertx;
        this.pool = pool;
        this.reads = reads;
        this.workerPool = workerPool;
        this.workerLogin = workerLogin;
        this.borrowTimeoutMs = borrowTimeout.toMillis();
        this.unitTimeoutMs = unitTimeout.toMillis();
    }

    /**
     * Account-scoped: runs {@code work} in one transaction scoped to {@code accountId}; commits if it
     * succeeds (then runs its after-commit hooks), rolls back otherwise.
     */
    public <T> Future<T> inAccount(UUID accountId, Function<Tx, Future<T>> work) {
        return borrow(pool).compose(conn -> {
            Future<?> begin = conn.query("BEGIN").execute();
            Future<?> scope = conn.preparedQuery(SET_ACCOUNT).execute(Tuple.of(accountId.toString()));
            return bounded(conn, unitTimeoutMs, unit -> finish(conn, Future.all(begin, scope), work, unit));
        });
    }

    /**
     * Account-scoped: a read of one statement, in one round trip: BEGIN, the account scope, the
     * statement and COMMIT are all written at once. {@code query} must issue its statement before
     * it returns: the connection it is handed refuses any statement issued later, which would
     * otherwise run after COMMIT, outside the scope (or, once the pooled connection serves someone
     * else, inside theirs). Every unit's connection is refused once its unit ends, for the same
     * reason.
     */
    public <T> Future<T> readInAccount(UUID accountId, Function<SqlConnection, Future<T>> query) {
        return borrow(pool)
                .compose(conn -> bounded(conn, unitTimeoutMs, unit -> {
                    // READ ONLY: a write slipped into a read fails instead of committing.
                    Future<?> begin = conn.query("BEGIN READ ONLY").execute();
                    Future<?> scope = conn.preparedQuery(SET_ACCOUNT).execute(Tuple.of(accountId.toString()));
                    ScopedConnection scoped = new ScopedConnection(conn);
                    Future<T> result;
                    try {
                        result = Attempt.of(query, scoped);
                    } finally {
                        scoped.end(); // the statement is written; one issued later would land after COMMIT, so it is
                        // refused
                    }
                    // Its COMMIT ends a read-only transaction: whether it arrives changes nothing, so the unit
                    // is never "committing" and a timeout here is a plain 503.
                    Future<?> commit = conn.query("COMMIT").execute();
                    Future<T> outcome = result;
                    return Future.join(begin, scope, outcome, commit)
                            .transform(ar -> ar.succeeded()
                                    ? Future.succeededFuture(outcome.result())
                                    : Future.<T>failedFuture(
                                            begin.failed()
                                                    ? begin.cause()
                                                    : scope.failed()
                                                            ? scope.cause()
                                                            : outcome.failed() ? outcome.cause() : commit.cause()));
                }));
    }

    /**
     * Account-scoped: one {@link ScopedRead}, as one autocommit statement: {@code accountId} goes
     * in as the function's first argument, {@code args} after it. The function scopes its own
     * query, so this reads exactly what {@link #readInAccount} would, for one Sync and one flush on
     * the database's side where a transaction takes four (sql/V024 has the figures). Like a unit,
     * it gives up with a TimeoutException (a 503) when it has no answer in time.
     */
    public Future<RowSet<Row>> read(ScopedRead read, UUID accountId, Tuple args) {
        Tuple all = Tuple.tuple().addUUID(accountId);
        for (int i = 0; i < args.size(); i++) {
            all.addValue(args.getValue(i));
        }
        // Pipelined beside other requests' reads: safe because each is a statement of its own, in its
        // own implicit transaction (one Sync each), and the function puts the scope back besides.
        return lookup(client -> client.preparedQuery(read.sql()).execute(all));
    }

    /**
     * Account-scoped, for a write whose account only the database can find (a presented refresh
     * token's): one autocommit statement calling a function that looks the account up through a
     * SECURITY DEFINER function and then scopes its own writes to it, as a {@link ScopedRead} scopes
     * its read, so the row-level security policies still decide what it may write (sql/V044). One
     * round trip and one commit on a pooled connection; not on {@link #read}'s pipelining client,
     * where each statement's commit (a WAL flush) would wait for those queued before it on the same
     * connection. Like {@link #direct}, it gives up with a TimeoutException (a 503) when it has no
     * answer in time; what the function wrote may then have committed or not, so its callers must
     * be safe to repeat (a refresh repeated within the grace period answers the same successor).
     */
    public Future<RowSet<Row>> scopedByItself(String sql, Tuple args) {
        return direct(client -> client.preparedQuery(sql).execute(args));
    }

    /**
     * Worker: runs {@code work} in one transaction as the narrowly granted worker role, for the few
     * jobs that must cross accounts (email dispatch, webhook effects, retention, sweepers); commits
     * if it succeeds (then runs its after-commit hooks), rolls back otherwise. Its reach is
     * what the migrations grant {@code tf_worker}, nothing more; RLS stays on. The worker logs in
     * on connections of its own: the runtime role is not its member, so no statement a request
     * runs can become it (V017).
     */
    public <T> Future<T> asWorker(Function<Tx, Future<T>> work) {
        return asWorker(Duration.ofMillis(unitTimeoutMs), work);
    }

    /**
     * Worker, as {@link #asWorker(Function)}, with a budget of its own instead of
     * {@link #UNIT_TIMEOUT}: for a job whose one statement may rightly take long (purging a closed
     * account's data). No request waits on it; a frozen database still costs it only its budget.
     */
    public <T> Future<T> asWorker(Duration budget, Function<Tx, Future<T>> work) {
        long budgetMs = budget.toMillis();
        return borrow(workerPool)
                .compose(conn -> bounded(
                        conn, budgetMs, unit -> finish(conn, conn.query("BEGIN").execute(), work, unit)));
    }

    /**
     * Succeeds once the worker can log in: start-up and readiness check it on a connection of its
     * own, so a pool busy with slow Stripe calls never reads as "not ready".
     */
    public Future<Void> workerLogsIn() {
        return PgConnection.connect(vertx, workerLogin).compose(SqlConnection::close);
    }

    /**
     * System: succeeds once PostgreSQL answers {@code SELECT 1} on a pooled connection within
     * {@code budget}, for readiness. Unlike a statement run on the pool ({@link #direct}), a
     * connection that does not answer in time is discarded, so probes of a frozen database do not
     * each keep a pooled connection until it wakes.
     */
    public Future<Void> ping(Duration budget) {
        return borrow(pool)
                .compose(conn -> bounded(
                        conn, budget.toMillis(), unit -> conn.query("SELECT 1").execute()))
                .mapEmpty();
    }

    /**
     * System: one autocommit statement that touches no account data (a health check, a SECURITY
     * DEFINER lookup), run on the pool without a transaction around it. Like a unit, it gives up with a
     * TimeoutException (a 503) when no connection is free in time; the pools keep no wait timeout
     * of their own (see {@link #borrow}).
     */
    public <T> Future<T> direct(Function<Pool, Future<T>> statement) {
        return timed(statement.apply(pool));
    }

    /**
     * System: a quick autocommit statement that touches no account data and lies on every
     * request's path (the session-state lookup), pipelined on the list pages' client instead of waiting for a
     * pooled connection of its own. Not for a slow statement (the audit chain's verification,
     * say): the pages queued behind it on its connection would wait for it.
     */
    public <T> Future<T> lookup(Function<SqlClient, Future<T>> statement) {
        return timed(statement.apply(reads));
    }

    /** {@code statement}'s outcome, or a TimeoutException (a 503) once the borrow timeout has passed without one. */
    private <T> Future<T> timed(Future<T> statement) {
        return statement.timeout(borrowTimeoutMs, TimeUnit.MILLISECONDS);
    }

    /**
     * System: runs {@code round} only while this instance holds the advisory lock {@code lockKey},
     * so one instance at a time runs it (a job whose rounds must not overlap across instances);
     * when another instance holds it, answers {@code lockedElsewhere} instead. The lock is taken
     * inside a transaction held open on a pooled connection of its own for the round's length, and
     * ended (rolled back: it wrote nothing) after it, whatever its outcome; the round's own
     * statements use units of work as usual. A transaction-level lock rather than a session one:
     * behind PgBouncer in transaction mode an open transaction keeps its server connection, while
     * a session lock's unlock could reach another server connection and leave the lock held.
     */
    public <T> Future<T> exclusive(long lockKey, Supplier<Future<T>> round, Supplier<Future<T>> lockedElsewhere) {
        return borrow(pool).compose(conn -> conn.begin()
                .compose(holding -> conn.preparedQuery(TRY_XACT_LOCK)
                        .execute(Tuple.of(lockKey))
                        .compose(rows ->
                                rows.iterator().next().getBoolean("locked") ? round.get() : lockedElsewhere.get())
                        .eventually(holding::rollback))
                .andThen(ignored -> conn.close()));
    }

    /**
     * A connection from {@code from}, or a {@link TimeoutException} (a 503) when none is free in
     * time. The pool's own wait timeout is off: in Vert.x 5.0.8 its timer races a connection handed
     * to the waiter (eclipse-vertx/vertx-sql-client#1567, vert.x#6169), which logged "Promise
     * already completed" under load and now and then failed a request after 5 s that had been
     * waiting for no reason. Here a connection that arrives after the request gave up goes straight
     * back to the pool.
     */
    private Future<SqlConnection> borrow(Pool from) {
        Future<SqlConnection> asked = from.getConnection();
        if (asked.isComplete()) {
            return asked;
        }
        Promise<SqlConnection> borrowed = Promise.promise();
        long timer = vertx.setTimer(
                borrowTimeoutMs,
                id -> borrowed.tryFail(
                        new TimeoutException("no database connection was free within " + borrowTimeoutMs + " ms")));
        asked.onComplete(ar -> {
            vertx.cancelTimer(timer);
            if (ar.failed()) {
                borrowed.tryFail(ar.cause());
            } else if (!borrowed.tryComplete(ar.result())) {
                ar.result().close();
            }
        });
        return borrowed.future();
    }

    /**
     * System mode for a process that has a pool of its own and no {@code Db} (the operator
     * commands, which run with the admin login): one unit of work on {@code pool}, its {@link Tx}
     * taking after-commit hooks as in {@link #asWorker}.
     */
    public static <T> Future<T> transaction(Pool pool, Function<Tx, Future<T>> work) {
        return pool.getConnection()
                .compose(conn -> finish(conn, conn.query("BEGIN").execute(), work, new Unit())
                        .andThen(ignored -> conn.close()));
    }

    /** What a unit's budget running out means: whether its COMMIT was already sent, and whether it had run out. */
    private static final class Unit {
        boolean committing;
        boolean expired;
        boolean discarded;
    }

    /**
     * {@code unit}'s outcome on {@code conn}, or, once {@code budgetMs} has passed without one, a
     * 503: a {@link TimeoutException} (nothing was committed: PostgreSQL rolls back the transaction
     * of a connection that went away) or, when COMMIT had been sent, {@link #outcomeUnknown}. The
     * connection is then discarded, so no answer the database gives later reaches anyone else.
     * Returns the connection to its pool once the unit has settled, unless it was discarded. One
     * timer per unit, no other wrapper.
     */
    private <T> Future<T> bounded(SqlConnection conn, long budgetMs, Function<Unit, Future<T>> unit) {
        return bounded(conn, budgetMs, new Unit(), true, unit);
    }

    private <T> Future<T> bounded(
            SqlConnection conn, long budgetMs, Unit unit, boolean returnsConnection, Function<Unit, Future<T>> work) {
        Promise<T> answer = Promise.promise();
        long timer = vertx.setTimer(budgetMs, id -> {
            unit.expired = true;
            Throwable late = unit.committing
                    ? outcomeUnknown()
                    : new TimeoutException("the database did not answer within " + budgetMs + " ms");
            if (answer.tryFail(late)) {
                log.warn(
                        "no answer from the database within {} ms{}; its connection is discarded",
                        budgetMs,
                        unit.committing ? " to a COMMIT: whether it committed is unknown" : ", nothing was committed");
                unit.discarded = true;
                discard(conn);
            }
        });
        Future<T> outcome = Attempt.of(work, unit);
        outcome.onComplete(ar -> {
            vertx.cancelTimer(timer);
            // A discarded connection is never closed here: its statements fail as soon as its socket
            // closes, before the pool has heard, and close() would then hand the dead connection to
            // the next borrower. The pool drops it itself once the socket's close reaches it.
            if (returnsConnection && !unit.discarded) {
                conn.close();
            }
            if (ar.succeeded()) {
                answer.tryComplete(ar.result());
            } else {
                answer.tryFail(ar.cause());
            }
        });
        return answer.future();
    }

    /**
     * The 503 of a unit whose COMMIT had been sent when its budget ran out: the database may have
     * committed it or not, and the client must not take it for either (a repeated POST could
     * create the invoice twice).
     */
    static AppError outcomeUnknown() {
        return AppError.of(
                ErrorCode.SERVICE_UNAVAILABLE,
                "The database did not confirm in time whether this change was saved; check before repeating it");
    }

    /**
     * Closes {@code conn}'s socket: its statements in flight fail, the pool drops it (and opens a
     * new one when asked), and PostgreSQL rolls back whatever was not committed: within a second
     * even while a statement is still running (V056, {@code client_connection_check_interval}),
     * else it would run on to its end, holding its locks and a connection slot. Closing the
     * {@code SqlConnection} instead would hand the still-busy connection to the next borrower. Vert.x offers no public call for this; the pooled
     * connection's physical one is reached through the client's internal API
     * ({@code SqlConnectionInternal.unwrap()}) and its Netty channel closed at once; DbTest proves
     * it on the version in use (a socket closed through Vert.x, NetSocket.close(), waited until the
     * database answered).
     */
    private static void discard(SqlConnection conn) {
        if (conn instanceof SqlConnectionInternal internal
                && internal.unwrap().unwrap() instanceof SocketConnectionBase physical) {
            // From the pipeline's first handler, past Vert.x's own: its close is a graceful shutdown that
            // waits for the statements in flight, which a frozen database never answers.
            physical.socket()
                    .channelHandlerContext()
                    .channel()
                    .pipeline()
                    .firstContext()
                    .close();
        } else {
            log.error(
                    "cannot discard a database connection of type {}",
                    conn.getClass().getName());
        }
    }

    private static <T> Future<T> finish(SqlConnection conn, Future<?> setup, Function<Tx, Future<T>> work, Unit unit) {
        Tx scoped = new Tx(conn);
        Future<T> outcome = Attempt.of(work, scoped);
        return Future.join(setup, outcome).transform(ar -> {
            scoped.end();
            if (ar.succeeded() && !unit.expired) {
                unit.committing = true;
                return conn.query("COMMIT").execute().map(committed -> {
                    scoped.committed();
                    return outcome.result();
                });
            }
            // A unit whose caller was already told "not saved" (its budget ran out) is never committed.
            Throwable cause = !ar.succeeded()
                    ? setup.failed() ? setup.cause() : outcome.cause()
                    : new TimeoutException("the unit of work ran out of time before its COMMIT");
            return conn.query("ROLLBACK").execute().<T>transform(ignored -> Future.failedFuture(cause));
        });
    }
}
