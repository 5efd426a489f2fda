package uk.co.tradersflow.platform.db;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.sqlclient.PrepareOptions;
import io.vertx.sqlclient.PreparedQuery;
import io.vertx.sqlclient.PreparedStatement;
import io.vertx.sqlclient.Query;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Transaction;
import io.vertx.sqlclient.spi.DatabaseMetadata;

/**
 * The connection a unit of work is handed by {@link Db}: usable until the unit ends, refused
 * after. The pooled connection outlives the unit and goes on to serve other accounts; a handle
 * kept by mistake (captured in a timer, a late callback) must not start a statement inside the
 * next borrower's transaction and scope. What it guards is the start: a query object taken from
 * it during the unit and executed after is not refused, so units use their queries at once, as
 * every repository does. Transactions and closing belong to {@link Db}.
 */
final class ScopedConnection implements SqlConnection {
  private final SqlConnection connection;
  private boolean ended;

  ScopedConnection(SqlConnection connection) {
    this.connection = connection;
  }

  /** From now on every statement is refused. */
  void end() {
    ended = true;
  }

  private SqlConnection open() {
    if (ended) {
      throw new IllegalStateException("a connection was used after its unit of work ended");
    }
    return connection;
  }

  @Override
  public Query<RowSet<Row>> query(String sql) {
    return open().query(sql);
  }

  @Override
  public PreparedQuery<RowSet<Row>> preparedQuery(String sql) {
    return open().preparedQuery(sql);
  }

  @Override
  public PreparedQuery<RowSet<Row>> preparedQuery(String sql, PrepareOptions options) {
    return open().preparedQuery(sql, options);
  }

  @Override
  public Future<PreparedStatement> prepare(String sql) {
    return open().prepare(sql);
  }

  @Override
  public Future<PreparedStatement> prepare(String sql, PrepareOptions options) {
    return open().prepare(sql, options);
  }

  @Override
  public SqlConnection exceptionHandler(Handler<Throwable> handler) {
    throw new UnsupportedOperationException("Db owns the connection's handlers");
  }

  @Override
  public SqlConnection closeHandler(Handler<Void> handler) {
    throw new UnsupportedOperationException("Db owns the connection's handlers");
  }

  @Override
  public Future<Transaction> begin() {
    throw new UnsupportedOperationException("the unit of work is already a transaction");
  }

  @Override
  public Transaction transaction() {
    return null;  // as for a connection with no transaction begun through begin()
  }

  @Override
  public boolean isSSL() {
    return connection.isSSL();
  }

  @Override
  public DatabaseMetadata databaseMetadata() {
    return connection.databaseMetadata();
  }

  @Override
  public Future<Void> close() {
    return Future.failedFuture(new UnsupportedOperationException("Db returns the connection to its pool"));
  }
}
