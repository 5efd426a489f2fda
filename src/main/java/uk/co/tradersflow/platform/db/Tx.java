package uk.co.tradersflow.platform.db;

import io.vertx.core.Future;
import io.vertx.sqlclient.SqlConnection;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The transaction a unit of work ({@link Db#inAccount}, {@link Db#asWorker}) is handed: its
 * connection, usable until the unit ends, plus {@link #afterCommit} for what must happen only
 * once the unit's writes are durable (waking the email dispatcher, the audit sealer).
 *
 * <p>It is a {@link SqlConnection}, so repositories that take a connection or a client keep
 * working unchanged; code that registers a hook asks for a {@code Tx}.
 */
public final class Tx extends ScopedConnection {
    private static final Logger log = LoggerFactory.getLogger(Tx.class);

    private final Set<Runnable> afterCommit = new LinkedHashSet<>();

    Tx(SqlConnection connection) {
        super(connection);
    }

    /**
     * Runs {@code hook} once this unit has committed: never after a rollback (including a COMMIT
     * that fails, or one PostgreSQL turns into a rollback because a statement of the unit failed),
     * never twice. The same hook instance registered again runs once, so a writer that registers
     * its own nudge for every entry wakes its reader once per transaction. Hooks run in the order
     * first registered, on the unit's context, before the unit's future completes; one that throws
     * is logged and does not affect the others or the unit's outcome (the writes are committed).
     */
    public void afterCommit(Runnable hook) {
        ensureOpen("an after-commit hook was registered");
        afterCommit.add(hook);
    }

    /**
     * Runs {@code step} under a savepoint: if it fails, its statements are undone (ROLLBACK TO
     * SAVEPOINT), the after-commit hooks it registered are dropped, and the unit goes on as before
     * the step, so the caller may settle the failure and carry on with the unit's other work; the
     * returned future fails with the step's cause. A step that succeeds keeps its writes for the
     * unit's COMMIT. Steps are taken one after another, never side by side on one unit.
     */
    public <T> Future<T> savepoint(Function<Tx, Future<T>> step) {
        ensureOpen("a savepoint was taken");
        boolean failedBefore = anyStatementFailed();
        Set<Runnable> hooksBefore = new LinkedHashSet<>(afterCommit);
        Future<?> taken = query("SAVEPOINT step").execute();
        Future<T> outcome = Attempt.of(step, this);
        return Future.join(taken, outcome).transform(ar -> {
            if (ar.succeeded()) {
                return query("RELEASE SAVEPOINT step").execute().map(released -> outcome.result());
            }
            Throwable cause = taken.failed() ? taken.cause() : outcome.cause();
            return query("ROLLBACK TO SAVEPOINT step").execute().transform(undone -> {
                if (undone.failed()) {
                    return Future.failedFuture(undone.cause());
                }
                // The step's failed statements are undone with it: the unit's COMMIT now commits.
                failuresUndone(failedBefore);
                afterCommit.retainAll(hooksBefore);
                return Future.failedFuture(cause);
            });
        });
    }

    /** Called by {@link Db} once COMMIT has succeeded. */
    void committed() {
        if (anyStatementFailed()) {
            // PostgreSQL answered COMMIT with ROLLBACK: nothing this unit wrote exists.
            return;
        }
        for (Runnable hook : afterCommit) {
            try {
                hook.run();
            } catch (RuntimeException e) {
                log.warn("an after-commit hook failed; the unit of work is committed", e);
            }
        }
    }
}
