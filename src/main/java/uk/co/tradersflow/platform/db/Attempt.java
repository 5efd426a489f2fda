package uk.co.tradersflow.platform.db;

import io.vertx.core.Future;
import java.util.function.Function;

/** Work handed to this package (a unit, a step, a batch), applied so that one which throws fails its future. */
final class Attempt {
    private Attempt() {}

    /**
     * {@code work} applied to {@code arg}: its future, or a failed one if it threw instead of
     * failing it, so the caller still ends its unit (COMMIT or ROLLBACK, the connection returned).
     */
    static <A, T> Future<T> of(Function<? super A, Future<T>> work, A arg) {
        try {
            return work.apply(arg);
        } catch (RuntimeException e) {
            return Future.failedFuture(e);
        }
    }
}
