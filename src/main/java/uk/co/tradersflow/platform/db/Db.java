package uk.co.tradersflow.platform.db;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.UUID;
import java.util.function.Function;

/**
 * The only way the server reaches account data. {@link #inAccount} runs a unit of work in a
 * transaction whose first act is {@code set_config('app.account_id', …, true)}, so the
 * database's row-level security policies, not the code, decide which rows exist. The setting is
 * transaction-local: it cannot leak to the next user of the pooled connection.
 *
 * <p>BEGIN, the set_config and the work's first statement are written to the connection
 * together (the client pipelines them), so the RLS scope costs no extra round trip.
 */
public final class Db {
  private static final String SET_ACCOUNT = "SELECT set_config('app.account_id', $1, true)";
  private static final String SET_WORKER_ROLE = "SET LOCAL ROLE " + DatabaseBootstrap.WORKER_ROLE;

  private final Pool pool;

  public Db(Pool pool) {
    this.pool = pool;
  }

  /** Runs {@code work} in one transaction scoped to {@code accountId}; commits if it succeeds, rolls back otherwise. */
  public <T> Future<T> inAccount(UUID accountId, Function<SqlConnection, Future<T>> work) {
    return pool.getConnection().compose(conn -> {
      Future<?> begin = conn.query("BEGIN").execute();
      Future<?> scope = conn.preparedQuery(SET_ACCOUNT).execute(Tuple.of(accountId.toString()));
      return finish(conn, begin, scope, work);
    });
  }

  /**
   * One read-only statement in a transaction scoped to {@code accountId}, in ONE round trip:
   * BEGIN READ ONLY, the set_config, the statement and COMMIT are written to the connection
   * together. Taking the statement (not a function of the connection) makes it impossible to run
   * a second statement after the COMMIT, outside the account's scope. For hot list/read paths.
   */
  public <T> Future<T> readInAccount(UUID accountId, String sql, Tuple args, Function<RowSet<Row>, T> map) {
    return pool.getConnection().compose(conn -> {
      Future<?> begin = conn.query("BEGIN READ ONLY").execute();
      Future<?> scope = conn.preparedQuery(SET_ACCOUNT).execute(Tuple.of(accountId.toString()));
      Future<RowSet<Row>> rows = conn.preparedQuery(sql).execute(args);
      Future<?> commit = conn.query("COMMIT").execute();
      // If anything before COMMIT failed, Postgres answers the COMMIT of the aborted transaction
      // with a rollback: nothing to undo here, and the connection goes back clean.
      return Future.join(begin, scope, rows, commit)
          .transform(ar -> {
            Throwable cause = begin.failed() ? begin.cause() : scope.failed() ? scope.cause()
                : rows.failed() ? rows.cause() : commit.failed() ? commit.cause() : null;
            if (cause != null) {
              return Future.<T>failedFuture(cause);
            }
            try {
              return Future.succeededFuture(map.apply(rows.result()));
            } catch (RuntimeException e) {
              return Future.<T>failedFuture(e);
            }
          })
          .andThen(ignored -> conn.close());
    });
  }

  /**
   * Runs {@code work} in one transaction as the narrowly granted worker role, for the few jobs
   * that must cross accounts (email dispatch, webhook effects, audit sealing). Its reach is what
   * the migrations grant {@code tf_worker}, nothing more; RLS stays on.
   */
  public <T> Future<T> asWorker(Function<SqlConnection, Future<T>> work) {
    return pool.getConnection().compose(conn -> {
      Future<?> begin = conn.query("BEGIN").execute();
      Future<?> role = conn.query(SET_WORKER_ROLE).execute();
      return finish(conn, begin, role, work);
    });
  }

  /** Plain access for statements that touch no account data (health checks, SECURITY DEFINER lookups). */
  public Pool pool() {
    return pool;
  }

  private static <T> Future<T> finish(SqlConnection conn, Future<?> begin, Future<?> scope,
                                      Function<SqlConnection, Future<T>> work) {
    Future<T> result;
    try {
      result = work.apply(conn);
    } catch (RuntimeException e) {
      result = Future.failedFuture(e);
    }
    Future<T> outcome = result;
    return Future.join(begin, scope, outcome)
        .transform(ar -> {
          if (ar.succeeded()) {
            return conn.query("COMMIT").execute().map(outcome.result());
          }
          Throwable cause = begin.failed() ? begin.cause() : scope.failed() ? scope.cause() : outcome.cause();
          return conn.query("ROLLBACK").execute().<T>transform(ignored -> Future.failedFuture(cause));
        })
        .andThen(ignored -> conn.close());
  }
}
