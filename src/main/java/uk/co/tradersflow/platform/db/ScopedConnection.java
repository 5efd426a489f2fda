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
import io.vertx.sqlclient.SqlResult;
import io.vertx.sqlclient.Transaction;
import io.vertx.sqlclient.Tuple;
import io.vertx.sqlclient.spi.DatabaseMetadata;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Collector;

/**
 * The connection a unit of work is handed by {@link Db}: usable until the unit ends, refused
 * after. The pooled connection outlives the unit and goes on to serve other accounts; a handle
 * kept by mistake (captured in a timer, a late callback), or a query taken from it, must not run
 * a statement inside the next borrower's transaction and scope, so every execution checks that
 * the unit is still on. Prepared statements (cursors, streams) are not offered: units use
 * {@link #preparedQuery}. Transactions and closing belong to {@link Db}.
 */
class ScopedConnection implements SqlConnection {
    private final SqlConnection connection;
    private boolean ended;
    private boolean failed;

    ScopedConnection(SqlConnection connection) {
        this.connection = connection;
    }

    /** From now on every statement is refused. */
    void end() {
        ended = true;
    }

    /**
     * Whether a statement failed on this connection. PostgreSQL then aborts the transaction, and a
     * later COMMIT reports success while it rolls back; see {@link Tx}.
     */
    boolean anyStatementFailed() {
        return failed;
    }

    /** A savepoint undid the failed statements since it was taken: back to {@code failedBefore}. */
    void failuresUndone(boolean failedBefore) {
        failed = failedBefore;
    }

    /** Refuses {@code what} once the unit has ended, as any statement is refused. */
    void ensureOpen(String what) {
        if (ended) {
            throw new IllegalStateException(what + " after its unit of work ended");
        }
    }

    private SqlConnection open() {
        if (ended) {
            throw new IllegalStateException("a connection was used after its unit of work ended");
        }
        return connection;
    }

    @Override
    public Query<RowSet<Row>> query(String sql) {
        return new GuardedQuery<>(open().query(sql));
    }

    @Override
    public PreparedQuery<RowSet<Row>> preparedQuery(String sql) {
        return new GuardedPreparedQuery<>(open().preparedQuery(sql));
    }

    @Override
    public PreparedQuery<RowSet<Row>> preparedQuery(String sql, PrepareOptions options) {
        return new GuardedPreparedQuery<>(open().preparedQuery(sql, options));
    }

    @Override
    public Future<PreparedStatement> prepare(String sql) {
        throw new UnsupportedOperationException("a unit of work runs its statements through preparedQuery");
    }

    @Override
    public Future<PreparedStatement> prepare(String sql, PrepareOptions options) {
        throw new UnsupportedOperationException("a unit of work runs its statements through preparedQuery");
    }

    /** Runs {@code execution} only while the unit is on; a refusal is a failed future, as any statement's failure is. */
    private <T> Future<T> checked(java.util.function.Supplier<Future<T>> execution) {
        try {
            open();
        } catch (IllegalStateException ended) {
            return Future.failedFuture(ended);
        }
        return execution.get().onFailure(e -> failed = true);
    }

    private class GuardedQuery<T, Q extends Query<T>> implements Query<T> {
        final Q query;

        GuardedQuery(Q query) {
            this.query = query;
        }

        @Override
        public Future<T> execute() {
            return checked(query::execute);
        }

        @Override
        public <R> Query<SqlResult<R>> collecting(Collector<Row, ?, R> collector) {
            return new GuardedQuery<>(query.collecting(collector));
        }

        @Override
        public <U> Query<RowSet<U>> mapping(Function<Row, U> mapper) {
            return new GuardedQuery<>(query.mapping(mapper));
        }
    }

    private final class GuardedPreparedQuery<T> extends GuardedQuery<T, PreparedQuery<T>> implements PreparedQuery<T> {
        GuardedPreparedQuery(PreparedQuery<T> query) {
            super(query);
        }

        @Override
        public Future<T> execute(Tuple arguments) {
            return checked(() -> query.execute(arguments));
        }

        @Override
        public Future<T> executeBatch(List<Tuple> batch) {
            return checked(() -> query.executeBatch(batch));
        }

        @Override
        public <R> PreparedQuery<SqlResult<R>> collecting(Collector<Row, ?, R> collector) {
            return new GuardedPreparedQuery<>(query.collecting(collector));
        }

        @Override
        public <U> PreparedQuery<RowSet<U>> mapping(Function<Row, U> mapper) {
            return new GuardedPreparedQuery<>(query.mapping(mapper));
        }
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
        return null; // as for a connection with no transaction begun through begin()
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
