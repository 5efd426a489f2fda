package uk.co.tradersflow.admin.signin;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.db.Rows;

/**
 * The SQL of sign-in links (sql/V032): written and spent inside the target account's own RLS
 * transaction; before the account is known, a token's hash finds it through the SECURITY DEFINER
 * {@code signin_link_account}, which says nothing about whether the link may still be used.
 */
final class SignInLinkRepository {
    static final String ACCOUNT_STATUS = "SELECT status FROM accounts WHERE id = $1";
    static final String USERS = "SELECT id, email FROM users WHERE account_id = $1 ORDER BY created_at, id";
    static final String INSERT =
            """
      INSERT INTO signin_links (account_id, user_id, action_id, staff_id, staff_role, token_hash, expires_at)
      VALUES ($1, $2, $3, $4, $5, $6, now() + $7 * interval '1 second')
      RETURNING id, expires_at""";
    static final String ACCOUNT_OF_TOKEN = "SELECT signin_link_account($1) AS account_id";
    static final String SPEND =
            """
      UPDATE signin_links SET used_at = now()
       WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()
      RETURNING id, user_id, action_id, staff_id, staff_role""";
    static final String USABLE =
            "SELECT used_at IS NULL AND expires_at > now() AS usable FROM signin_links WHERE token_hash = $1";
    static final String RECORD_SESSION = "UPDATE signin_links SET session_id = $2 WHERE id = $1";
    static final String SHORTEN_SESSION =
            """
      UPDATE sessions SET expires_at = least(expires_at, now() + $2 * interval '1 second') WHERE id = $1""";

    record AccountUser(UUID id, String email) {}

    record Issued(UUID id, Instant expiresAt) {}

    record Spent(UUID id, UUID userId, UUID actionId, UUID staffId, String staffRole) {}

    private final Db db;

    SignInLinkRepository(Db db) {
        this.db = db;
    }

    /** The account a token was issued for, if any token has this hash. */
    Future<Optional<UUID>> accountOf(byte[] tokenHash) {
        return db.direct(pool -> pool.preparedQuery(ACCOUNT_OF_TOKEN).execute(Tuple.of(Buffer.buffer(tokenHash))))
                .map(rows -> Optional.ofNullable(rows.iterator().next().getUUID("account_id")));
    }

    /** Whether the link would sign in now, spending nothing. */
    Future<Boolean> usable(UUID accountId, byte[] tokenHash) {
        return db.readInAccount(accountId, tx -> tx.preparedQuery(USABLE).execute(Tuple.of(Buffer.buffer(tokenHash))))
                .map(rows -> rows.size() == 1
                        && Boolean.TRUE.equals(rows.iterator().next().getBoolean("usable")));
    }

    // --- inside the account's transaction ---

    /** The account's status; empty when there is no such account (or it is not this scope's). */
    static Future<Optional<String>> accountStatus(SqlConnection tx, UUID accountId) {
        return tx.preparedQuery(ACCOUNT_STATUS)
                .execute(Tuple.of(accountId))
                .map(rows -> rows.size() == 0
                        ? Optional.<String>empty()
                        : Optional.of(rows.iterator().next().getString("status")));
    }

    /** The account's users, its first (the one who signed up) first. */
    static Future<List<AccountUser>> users(SqlConnection tx, UUID accountId) {
        return tx.preparedQuery(USERS).execute(Tuple.of(accountId)).map(rows -> {
            List<AccountUser> users = new ArrayList<>(rows.size());
            for (Row r : rows) {
                users.add(new AccountUser(r.getUUID("id"), r.getString("email")));
            }
            return users;
        });
    }

    static Future<Issued> insert(
            SqlConnection tx,
            UUID accountId,
            UUID userId,
            UUID actionId,
            UUID staffId,
            String staffRole,
            byte[] tokenHash,
            Duration life) {
        return tx.preparedQuery(INSERT)
                .execute(Tuple.tuple()
                        .addUUID(accountId)
                        .addUUID(userId)
                        .addUUID(actionId)
                        .addUUID(staffId)
                        .addString(staffRole)
                        .addBuffer(Buffer.buffer(tokenHash))
                        .addLong(life.toSeconds()))
                .map(rows -> {
                    Row r = rows.iterator().next();
                    return new Issued(r.getUUID("id"), Rows.instant(r, "expires_at"));
                });
    }

    /** Spends the link once: empty when it was spent already, has expired, or is not this account's. */
    static Future<Optional<Spent>> spend(SqlConnection tx, byte[] tokenHash) {
        return tx.preparedQuery(SPEND)
                .execute(Tuple.of(Buffer.buffer(tokenHash)))
                .map(rows -> {
                    if (rows.size() == 0) {
                        return Optional.empty();
                    }
                    Row r = rows.iterator().next();
                    return Optional.of(new Spent(
                            r.getUUID("id"),
                            r.getUUID("user_id"),
                            r.getUUID("action_id"),
                            r.getUUID("staff_id"),
                            r.getString("staff_role")));
                });
    }

    static Future<Void> recordSession(SqlConnection tx, UUID linkId, UUID sessionId) {
        return tx.preparedQuery(RECORD_SESSION)
                .execute(Tuple.of(linkId, sessionId))
                .mapEmpty();
    }

    /** A support session ends within {@code life}, whatever the refresh token's own life. */
    static Future<Void> shortenSession(SqlConnection tx, UUID sessionId, Duration life) {
        return tx.preparedQuery(SHORTEN_SESSION)
                .execute(Tuple.of(sessionId, life.toSeconds()))
                .mapEmpty();
    }
}
