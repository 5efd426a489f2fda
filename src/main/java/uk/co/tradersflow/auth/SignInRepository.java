package uk.co.tradersflow.auth;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Optional;
import java.util.UUID;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.db.Rows;

/**
 * The SQL of signing up, signing in and the emailed links: accounts and users created, sessions
 * and refresh tokens, link tokens, passwords. The three lookups that must run before a request knows its account go through
 * SECURITY DEFINER functions that reveal only what the decision needs; everything else runs in
 * the account's own RLS transaction.
 */
final class SignInRepository {
    private static final String USER_BY_EMAIL =
            """
      SELECT user_id, account_id, password_hash, password_epoch, email_verified, account_status
        FROM auth_user_by_email($1)""";
    private static final String ROTATE_SESSION = "SELECT * FROM auth_session_rotate($1, $2, $3, $4)";
    private static final String ROTATE_REFRESH_TOKEN =
            "SELECT * FROM auth_refresh_rotate_into_session($1, $2, $3, $4, $5, $6)";
    private static final String REFRESH_TOKEN_SESSION = "SELECT session_id FROM auth_refresh_token($1)";
    private static final String LINK_TOKEN = "SELECT * FROM auth_link_token($1, $2)";
    private static final String INSERT_ACCOUNT = "INSERT INTO accounts (id, business_name) VALUES ($1, $2)";
    private static final String INSERT_USER =
            "INSERT INTO users (id, account_id, email, password_hash) VALUES ($1, $2, $3, $4)";
    private static final String INSERT_LINK_TOKEN =
            """
      INSERT INTO auth_tokens (account_id, user_id, purpose, token_hash, expires_at, new_email)
      VALUES ($1, $2, $3, $4, now() + $5 * interval '1 second', $6)""";
    private static final String USE_LINK_TOKEN =
            "UPDATE auth_tokens SET used_at = now() WHERE id = $1 AND used_at IS NULL AND expires_at > now()";
    private static final String INSERT_SESSION =
            """
      INSERT INTO sessions (account_id, user_id, expires_at, user_agent, ip, impersonator_id, refresh_secret_hash)
      VALUES ($1, $2, now() + $3 * interval '1 second', $4, $5::text::inet, $6, $7) RETURNING id""";
    private static final String REVOKE_SESSION =
            "UPDATE sessions SET revoked_at = now(), revoked_reason = $2 WHERE id = $1 AND revoked_at IS NULL";
    private static final String REVOKE_USER_SESSIONS =
            """
      UPDATE sessions SET revoked_at = now(), revoked_reason = $3
       WHERE user_id = $1 AND revoked_at IS NULL AND ($2::uuid IS NULL OR id <> $2)""";
    private static final String BUMP_FILE_URL_EPOCH =
            "UPDATE accounts SET file_url_epoch = file_url_epoch + 1, updated_at = now() WHERE id = $1";
    private static final String SET_PASSWORD =
            "UPDATE users SET password_hash = $2, password_epoch = password_epoch + 1, updated_at = now() WHERE id = $1";
    private static final String REHASH_PASSWORD =
            "UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1 AND password_epoch = $3";
    private static final String SPEND_LINK_TOKENS =
            "UPDATE auth_tokens SET used_at = now() WHERE user_id = $1 AND used_at IS NULL";
    private static final String PASSWORD_EPOCH_LOCKED =
            "SELECT password_epoch FROM users WHERE id = $1 FOR NO KEY UPDATE";
    private static final String MARK_PASSWORD_SET_BY_RESET =
            "UPDATE users SET password_set_by_reset_at = now() WHERE id = $1";
    private static final String MARK_VERIFIED =
            "UPDATE users SET email_verified_at = coalesce(email_verified_at, now()), updated_at = now() WHERE id = $1";

    record UserByEmail(
            UUID userId,
            UUID accountId,
            Optional<String> passwordHash,
            int passwordEpoch,
            boolean emailVerified,
            String accountStatus) {}

    record RefreshRow(
            UUID id,
            UUID accountId,
            UUID sessionId,
            UUID userId,
            Instant expiresAt,
            Optional<Instant> spentAt,
            Optional<byte[]> successorSealed,
            boolean sessionLive,
            Optional<UUID> impersonatorId,
            boolean accountSuspended) {}

    /** A presented refresh token's row after {@link #rotateRefreshToken}, and whether that call spent it. */
    record Rotation(RefreshRow row, boolean rotated) {}

    /** A session's refresh state after {@link #rotateSession}, and whether that call moved its generation. */
    record SessionRotation(
            UUID accountId,
            UUID userId,
            Optional<UUID> impersonatorId,
            Instant expiresAt,
            boolean sessionLive,
            boolean accountSuspended,
            long generation,
            Optional<Instant> refreshedAt,
            Optional<Instant> previouslyRefreshedAt,
            boolean rotated) {}

    record LinkToken(UUID id, UUID accountId, UUID userId, Optional<EmailAddress> newEmail, boolean usable) {}

    private final Db db;

    SignInRepository(Db db) {
        this.db = db;
    }

    Future<Optional<UserByEmail>> userByEmail(EmailAddress email) {
        return db.direct(pool -> pool.preparedQuery(USER_BY_EMAIL).execute(Tuple.of(email.value())))
                .map(rows -> {
                    if (rows.size() == 0) {
                        return Optional.empty();
                    }
                    Row r = rows.iterator().next();
                    return Optional.of(new UserByEmail(
                            r.getUUID("user_id"),
                            r.getUUID("account_id"),
                            Optional.ofNullable(r.getString("password_hash")),
                            r.getInteger("password_epoch"),
                            r.getBoolean("email_verified"),
                            r.getString("account_status")));
                });
    }

    /**
     * Refresh in one statement (sql/V049): if session {@code sessionId}, whose secret hashes to
     * {@code secretHash}, may be refreshed at {@code now} (live, not expired, its account not
     * suspended) and stands at {@code generation}, moves it to the next. Empty when there is no such
     * session; otherwise its state as it stands afterwards (a generation another request moved first
     * reads as moved) and whether this call moved it.
     */
    Future<Optional<SessionRotation>> rotateSession(UUID sessionId, byte[] secretHash, long generation, Instant now) {
        return db.scopedByItself(
                        ROTATE_SESSION,
                        Tuple.of(sessionId, Buffer.buffer(secretHash), generation, now.atOffset(ZoneOffset.UTC)))
                .map(rows -> {
                    if (rows.size() == 0) {
                        return Optional.empty();
                    }
                    Row r = rows.iterator().next();
                    return Optional.of(new SessionRotation(
                            r.getUUID("account_id"),
                            r.getUUID("user_id"),
                            Optional.ofNullable(r.getUUID("impersonator_id")),
                            Rows.instant(r, "expires_at"),
                            r.getBoolean("session_live"),
                            r.getBoolean("account_suspended"),
                            r.getLong("generation"),
                            Rows.optionalInstant(r, "refreshed_at"),
                            Rows.optionalInstant(r, "previously_refreshed_at"),
                            r.getBoolean("rotated")));
                });
    }

    /** The session of a refresh token issued before V049, found by its hash. */
    Future<Optional<UUID>> sessionOfIssuedToken(byte[] hash) {
        return db.scopedByItself(REFRESH_TOKEN_SESSION, Tuple.of(Buffer.buffer(hash)))
                .map(rows -> rows.size() == 0
                        ? Optional.empty()
                        : Optional.of(rows.iterator().next().getUUID("session_id")));
    }

    /**
     * A refresh token issued before V049, in one statement (sql/V044, V049): finds the token whose
     * hash is {@code hash} and, if it may be rotated at {@code now} (its session live, not expired,
     * its account not suspended, not yet spent), spends it for a successor row with the given id,
     * sealed value and a hash nobody holds the token of, and gives its session the secret hashed to {@code
     * secretHash} at generation 0. Empty when no token has that hash; otherwise its row as it stands
     * afterwards (a token another request spent first reads as spent, its successor sealed) and
     * whether this call rotated it.
     */
    Future<Optional<Rotation>> rotateRefreshToken(
            byte[] hash, Instant now, UUID successorId, byte[] successorSealed, byte[] secretHash, Duration life) {
        Tuple args = Tuple.of(
                Buffer.buffer(hash),
                now.atOffset(ZoneOffset.UTC),
                successorId,
                Buffer.buffer(successorSealed),
                life.toSeconds(),
                Buffer.buffer(secretHash));
        return db.scopedByItself(ROTATE_REFRESH_TOKEN, args).map(rows -> {
            if (rows.size() == 0) {
                return Optional.empty();
            }
            Row r = rows.iterator().next();
            return Optional.of(new Rotation(
                    new RefreshRow(
                            r.getUUID("id"),
                            r.getUUID("account_id"),
                            r.getUUID("session_id"),
                            r.getUUID("user_id"),
                            Rows.instant(r, "expires_at"),
                            Rows.optionalInstant(r, "spent_at"),
                            Optional.ofNullable(r.getBuffer("successor_sealed")).map(Buffer::getBytes),
                            r.getBoolean("session_live"),
                            Optional.ofNullable(r.getUUID("impersonator_id")),
                            r.getBoolean("account_suspended")),
                    r.getBoolean("rotated")));
        });
    }

    Future<Optional<LinkToken>> linkToken(byte[] hash, String purpose) {
        return db.direct(pool -> pool.preparedQuery(LINK_TOKEN)
                        .execute(Tuple.of(io.vertx.core.buffer.Buffer.buffer(hash), purpose)))
                .map(rows -> {
                    if (rows.size() == 0) {
                        return Optional.empty();
                    }
                    Row r = rows.iterator().next();
                    return Optional.of(new LinkToken(
                            r.getUUID("id"),
                            r.getUUID("account_id"),
                            r.getUUID("user_id"),
                            Optional.ofNullable(r.getString("new_email")).map(EmailAddress::of),
                            r.getBoolean("usable")));
                });
    }

    // --- inside the account's transaction ---

    static Future<Void> createAccount(
            SqlConnection tx, UUID accountId, String businessName, UUID userId, String email, String passwordHash) {
        return tx.preparedQuery(INSERT_ACCOUNT)
                .execute(Tuple.of(accountId, businessName))
                .compose(v -> tx.preparedQuery(INSERT_USER).execute(Tuple.of(userId, accountId, email, passwordHash)))
                .mapEmpty();
    }

    static Future<Void> insertLinkToken(
            SqlConnection tx,
            UUID accountId,
            UUID userId,
            String purpose,
            byte[] hash,
            Duration life,
            Optional<EmailAddress> newEmail) {
        return tx.preparedQuery(INSERT_LINK_TOKEN)
                .execute(Tuple.of(
                        accountId,
                        userId,
                        purpose,
                        io.vertx.core.buffer.Buffer.buffer(hash),
                        life.toSeconds(),
                        newEmail.map(EmailAddress::value).orElse(null)))
                .mapEmpty();
    }

    /** Marks a link token used; false when another request used it first. */
    static Future<Boolean> useLinkToken(SqlConnection tx, UUID tokenId) {
        return tx.preparedQuery(USE_LINK_TOKEN).execute(Tuple.of(tokenId)).map(rows -> rows.rowCount() == 1);
    }

    static Future<UUID> insertSession(
            SqlConnection tx,
            UUID accountId,
            UUID userId,
            Duration life,
            String userAgent,
            String ip,
            Optional<UUID> impersonator,
            byte[] refreshSecretHash) {
        return tx.preparedQuery(INSERT_SESSION)
                .execute(Tuple.of(
                        accountId,
                        userId,
                        life.toSeconds(),
                        userAgent,
                        ip,
                        impersonator.orElse(null),
                        Buffer.buffer(refreshSecretHash)))
                .map(rows -> rows.iterator().next().getUUID("id"));
    }

    /** Ends one session; answers whether it was live. */
    static Future<Boolean> revokeSession(SqlConnection tx, UUID sessionId, String reason) {
        return tx.preparedQuery(REVOKE_SESSION)
                .execute(Tuple.of(sessionId, reason))
                .map(rows -> rows.rowCount() == 1);
    }

    /** Ends every live session of the user but {@code keep} (if any); answers how many. */
    static Future<Integer> revokeUserSessions(SqlConnection tx, UUID userId, Optional<UUID> keep, String reason) {
        return tx.preparedQuery(REVOKE_USER_SESSIONS)
                .execute(Tuple.of(userId, keep.orElse(null), reason))
                .map(rows -> rows.rowCount());
    }

    static Future<Void> bumpFileUrlEpoch(SqlConnection tx, UUID accountId) {
        return tx.preparedQuery(BUMP_FILE_URL_EPOCH)
                .execute(Tuple.of(accountId))
                .mapEmpty();
    }

    /** A new password: its epoch moves, which retires every device token issued under the old one. */
    static Future<Void> setPassword(SqlConnection tx, UUID userId, String hash) {
        return tx.preparedQuery(SET_PASSWORD).execute(Tuple.of(userId, hash)).mapEmpty();
    }

    /**
     * The same password hashed again with current parameters: nothing a device token depends on
     * changes. Only while the password is still the one just checked: a change or reset that
     * committed during the hashing moved the epoch, and must not be overwritten with the old password.
     */
    static Future<Void> rehashPassword(SqlConnection tx, UUID userId, int passwordEpoch, String hash) {
        return tx.preparedQuery(REHASH_PASSWORD)
                .execute(Tuple.of(userId, hash, passwordEpoch))
                .mapEmpty();
    }

    /** Spends every emailed link the user still has (after their password changed or was reset). */
    static Future<Void> spendLinkTokens(SqlConnection tx, UUID userId) {
        return tx.preparedQuery(SPEND_LINK_TOKENS).execute(Tuple.of(userId)).mapEmpty();
    }

    /**
     * Whether the password is still the one a sign-in checked (its epoch unchanged), holding the
     * user's row until this transaction ends. A reset or change that commits while the sign-in is
     * hashing is seen here, and one that comes later waits, then ends the session this opens: so
     * no session opened with the old password outlives the reset.
     *
     * <p>The lock is the one the sign-in's own rehash of the password needs ({@code FOR NO KEY
     * UPDATE}), not a share lock: two sign-ins of one user that both rehash would each hold a share
     * lock and wait for the other's to go before updating, and PostgreSQL would abort one (409).
     */
    static Future<Boolean> passwordStillIs(SqlConnection tx, UUID userId, int passwordEpoch) {
        return tx.preparedQuery(PASSWORD_EPOCH_LOCKED)
                .execute(Tuple.of(userId))
                .map(rows -> rows.size() == 1 && rows.iterator().next().getInteger("password_epoch") == passwordEpoch);
    }

    /** The password was just set through an emailed reset link: the proof a staff address needs. */
    static Future<Void> markPasswordSetByReset(SqlConnection tx, UUID userId) {
        return tx.preparedQuery(MARK_PASSWORD_SET_BY_RESET)
                .execute(Tuple.of(userId))
                .mapEmpty();
    }

    static Future<Void> markVerified(SqlConnection tx, UUID userId) {
        return tx.preparedQuery(MARK_VERIFIED).execute(Tuple.of(userId)).mapEmpty();
    }
}
