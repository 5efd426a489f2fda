package uk.co.tradersflow.auth.oauth;

import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import uk.co.tradersflow.auth.EmailAddress;
import uk.co.tradersflow.auth.SignInService.SignInUser;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.db.Rows;

/**
 * The SQL of signing in with a provider and of the user's linked identities
 * ({@code user_identities}, {@code V005}/{@code V034}). The two lookups made before a sign-in
 * knows its account go through SECURITY DEFINER functions; everything else runs in the account's
 * own RLS transaction.
 */
final class IdentityRepository {
    private static final String USER_BY_IDENTITY =
            """
      SELECT user_id, account_id, email, password_epoch, email_verified, account_status
        FROM auth_user_by_identity($1, $2)""";
    private static final String USER_BY_EMAIL =
            """
      SELECT user_id, account_id, password_epoch, email_verified, account_status FROM auth_user_by_email($1)""";
    private static final String INSERT_ACCOUNT = "INSERT INTO accounts (id, business_name) VALUES ($1, $2)";
    // The user starts without a password; the provider verified the address, so it is marked verified
    // at once (by an UPDATE: the runtime role may not insert a verified user, V018).
    private static final String INSERT_USER = "INSERT INTO users (id, account_id, email) VALUES ($1, $2, $3)";
    private static final String MARK_VERIFIED = "UPDATE users SET email_verified_at = now() WHERE id = $1";
    private static final String INSERT_IDENTITY =
            """
      INSERT INTO user_identities (account_id, user_id, provider, subject, email, is_private_email)
      VALUES ($1, $2, $3, $4, $5, $6)""";
    // An address the token leaves out (Apple sends it on some sign-ins only) keeps the one known.
    private static final String TOUCH_IDENTITY =
            """
      UPDATE user_identities
         SET email = coalesce($4::text, email),
             is_private_email = CASE WHEN $4::text IS NULL THEN is_private_email ELSE $5 END,
             last_used_at = now()
       WHERE provider = $1 AND subject = $2 AND user_id = $3""";
    private static final String IDENTITIES =
            """
      SELECT provider, email, is_private_email, created_at, last_used_at FROM user_identities
       WHERE user_id = $1 ORDER BY created_at, provider""";
    // The user's row held until the unlink commits: two unlinks at once cannot each leave the other
    // as the last way in, and both go.
    private static final String LOCK_USER =
            "SELECT email, password_hash IS NOT NULL AS has_password FROM users WHERE id = $1 FOR NO KEY UPDATE";
    private static final String DELETE_IDENTITY = "DELETE FROM user_identities WHERE user_id = $1 AND provider = $2";

    /** The signed-in user's address, and whether they have a password to sign in with. */
    record Holder(String email, boolean hasPassword) {}

    private final Db db;

    IdentityRepository(Db db) {
        this.db = db;
    }

    /** The user this provider's subject signs into, if it is linked to one. */
    Future<Optional<SignInUser>> userByIdentity(String provider, String subject) {
        return db.direct(pool -> pool.preparedQuery(USER_BY_IDENTITY).execute(Tuple.of(provider, subject)))
                .map(rows -> first(rows)
                        .map(r -> new SignInUser(
                                r.getUUID("user_id"),
                                r.getUUID("account_id"),
                                EmailAddress.of(r.getString("email")),
                                r.getInteger("password_epoch"),
                                r.getBoolean("email_verified"),
                                r.getString("account_status"))));
    }

    /** The user who holds this address, if any. */
    Future<Optional<SignInUser>> userByEmail(EmailAddress email) {
        return db.direct(pool -> pool.preparedQuery(USER_BY_EMAIL).execute(Tuple.of(email.value())))
                .map(rows -> first(rows)
                        .map(r -> new SignInUser(
                                r.getUUID("user_id"),
                                r.getUUID("account_id"),
                                email,
                                r.getInteger("password_epoch"),
                                r.getBoolean("email_verified"),
                                r.getString("account_status"))));
    }

    Future<List<IdentityService.Identity>> identities(UUID accountId, UUID userId) {
        return db.readInAccount(accountId, tx -> identities(tx, userId));
    }

    // --- inside the account's transaction ---

    static Future<Void> createAccount(SqlConnection tx, SignInUser user, String businessName) {
        return tx.preparedQuery(INSERT_ACCOUNT)
                .execute(Tuple.of(user.accountId(), businessName))
                .compose(v -> tx.preparedQuery(INSERT_USER)
                        .execute(Tuple.of(
                                user.userId(), user.accountId(), user.email().value())))
                .compose(v -> tx.preparedQuery(MARK_VERIFIED).execute(Tuple.of(user.userId())))
                .mapEmpty();
    }

    static Future<Void> link(SqlConnection tx, SignInUser user, String provider, IdToken token) {
        return tx.preparedQuery(INSERT_IDENTITY)
                .execute(Tuple.of(
                        user.accountId(),
                        user.userId(),
                        provider,
                        token.subject(),
                        token.email().map(EmailAddress::value).orElse(null),
                        token.privateEmail()))
                .mapEmpty();
    }

    /** Records a sign-in with the identity (and the address it now has); false when it is linked to this user no more. */
    static Future<Boolean> touch(SqlConnection tx, String provider, UUID userId, IdToken token) {
        return tx.preparedQuery(TOUCH_IDENTITY)
                .execute(Tuple.of(
                        provider,
                        token.subject(),
                        userId,
                        token.email().map(EmailAddress::value).orElse(null),
                        token.privateEmail()))
                .map(rows -> rows.rowCount() == 1);
    }

    static Future<List<IdentityService.Identity>> identities(SqlConnection tx, UUID userId) {
        return tx.preparedQuery(IDENTITIES)
                .execute(Tuple.of(userId))
                .map(rows -> Rows.all(
                        rows,
                        r -> new IdentityService.Identity(
                                r.getString("provider"),
                                Optional.ofNullable(r.getString("email")),
                                r.getBoolean("is_private_email"),
                                Rows.instant(r, "created_at"),
                                Rows.instant(r, "last_used_at"))));
    }

    static Future<Holder> lockHolder(SqlConnection tx, UUID userId) {
        return tx.preparedQuery(LOCK_USER)
                .execute(Tuple.of(userId))
                .map(rows -> Rows.one(rows, r -> new Holder(r.getString("email"), r.getBoolean("has_password"))));
    }

    static Future<Boolean> unlink(SqlConnection tx, UUID userId, String provider) {
        return tx.preparedQuery(DELETE_IDENTITY)
                .execute(Tuple.of(userId, provider))
                .map(rows -> rows.rowCount() == 1);
    }

    private static Optional<Row> first(RowSet<Row> rows) {
        return rows.size() == 0 ? Optional.empty() : Optional.of(rows.iterator().next());
    }
}
