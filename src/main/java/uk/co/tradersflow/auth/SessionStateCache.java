package uk.co.tradersflow.auth;

import com.github.benmanes.caffeine.cache.AsyncCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import uk.co.tradersflow.platform.bus.SessionRevoked;
import uk.co.tradersflow.platform.db.Db;

/**
 * Answers "is this session still live, and is its account allowed in?" for every authenticated
 * request. Answers are remembered for at most {@link #MAX_AGE}, so a revocation, suspension or
 * password change reaches every instance within a second even if no signal arrives (an operator's
 * {@code suspend-account} sends none): the second has to hold the answer's age, the lookup that
 * made it and the refused request itself, so the age alone is kept well under it. A
 * {@link SessionRevoked} signal (local bus, fed from Redis pub/sub) drops answers at once.
 *
 * <p>The lookup is the SECURITY DEFINER function {@code session_state}: it must run before we
 * trust the token's account, and reveals nothing but the one session's state.
 */
public final class SessionStateCache {
    static final String LOOKUP =
            """
      SELECT session_id, user_id, account_id, live, account_status, email, email_verified, impersonator_id
        FROM session_state($1)""";
    public static final Duration MAX_AGE = Duration.ofMillis(750);

    private final Db db;
    private final AsyncCache<UUID, Optional<SessionState>> cache;

    public SessionStateCache(Vertx vertx, Db db) {
        this.db = db;
        this.cache = Caffeine.newBuilder()
                .expireAfterWrite(MAX_AGE)
                .maximumSize(100_000)
                .executor(cmd -> vertx.runOnContext(v -> cmd.run()))
                .buildAsync();
    }

    public Future<Optional<SessionState>> get(UUID sessionId) {
        // Nearly every request finds its answer there already: read it without a loader or a
        // completion-stage adapter (a loaded answer that failed is never kept).
        CompletableFuture<Optional<SessionState>> known = cache.getIfPresent(sessionId);
        if (known != null && known.isDone() && !known.isCompletedExceptionally()) {
            return Future.succeededFuture(known.join());
        }
        var pending = cache.get(
                sessionId, (id, executor) -> load(id).toCompletionStage().toCompletableFuture());
        return Future.fromCompletionStage(pending);
    }

    private Future<Optional<SessionState>> load(UUID sessionId) {
        return db.lookup(client -> client.preparedQuery(LOOKUP).execute(Tuple.of(sessionId)))
                .map(rows -> {
                    if (rows.size() == 0) {
                        return Optional.<SessionState>empty();
                    }
                    Row r = rows.iterator().next();
                    return Optional.of(new SessionState(
                            r.getUUID("session_id"),
                            r.getUUID("user_id"),
                            r.getUUID("account_id"),
                            r.getBoolean("live"),
                            r.getString("account_status"),
                            r.getString("email"),
                            r.getBoolean("email_verified"),
                            Optional.ofNullable(r.getUUID("impersonator_id"))));
                });
    }

    public void invalidate(SessionRevoked revoked) {
        revoked.sessionId().ifPresent(cache.synchronous()::invalidate);
        revoked.userId()
                .ifPresent(user -> cache.synchronous().asMap().entrySet().removeIf(e -> e.getValue()
                        .map(s -> s.userId().equals(user))
                        .orElse(false)));
    }

    /** After losing the revocation feed we may have missed signals: forget everything. */
    public void invalidateAll() {
        cache.synchronous().invalidateAll();
    }
}
