package uk.co.tradersflow.auth;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import uk.co.tradersflow.platform.db.Db;

/**
 * The signed-in user's account changes: the current password to confirm against, the email
 * change, closing the account and the export of everything it holds. All inside the account's
 * own RLS transaction.
 */
final class AccountRepository {
    private static final String USER_SECRETS = "SELECT email, password_hash FROM users WHERE id = $1";
    // A reset proved the old mailbox, not the new one: a staff address needs its own (V027).
    private static final String CHANGE_EMAIL =
            """
      UPDATE users SET email = $2, email_verified_at = now(), password_set_by_reset_at = NULL, updated_at = now() WHERE id = $1""";
    private static final String CLOSE_ACCOUNT =
            """
      UPDATE accounts SET status = 'closed', closed_at = now(), delete_after = $2, file_url_epoch = file_url_epoch + 1,
             updated_at = now() WHERE id = $1""";
    // RLS limits it to the account's own sessions.
    private static final String END_ACCOUNT_SESSIONS =
            """
      UPDATE sessions SET revoked_at = now(), revoked_reason = 'account_closed' WHERE revoked_at IS NULL""";

    /** One export section: its name in the document and the rows it holds. */
    private record Section(String name, String query) {}

    private static final List<Section> EXPORT = List.of(
            new Section("account", "SELECT id, business_name, status, created_at FROM accounts"),
            new Section("users", "SELECT id, email, email_verified_at, created_at FROM users"),
            new Section(
                    "identities",
                    "SELECT user_id, provider, subject, email, is_private_email, created_at, last_used_at "
                            + "FROM user_identities ORDER BY created_at"),
            new Section("customers", "SELECT * FROM customers ORDER BY created_at"),
            new Section("jobs", "SELECT * FROM jobs ORDER BY created_at"),
            // Not lines_json or body_json: they only repeat the invoice and its lines, rendered for
            // the API (V015, V025).
            new Section(
                    "invoices",
                    "SELECT id, account_id, number, customer_id, job_id, status, currency, "
                            + "total_pence, due_date, payment_url, paid_at, paid_by, version, created_at, updated_at FROM invoices ORDER BY created_at"),
            new Section("invoiceLines", "SELECT * FROM invoice_lines ORDER BY invoice_id, position"),
            new Section(
                    "paymentLinks",
                    "SELECT invoice_id, invoice_version, url, created_at, retired_at "
                            + "FROM invoice_payment_links ORDER BY created_at"),
            // The files themselves are fetched through their signed URLs (GET /api/v1/documents/{id}/url);
            // where and under which key they are stored is not the account's data.
            new Section(
                    "documents",
                    "SELECT id, job_id, filename, content_type, size_bytes, created_at "
                            + "FROM documents ORDER BY created_at"),
            new Section(
                    "billing",
                    "SELECT stripe_customer_id, subscription_id, subscription_status, trial_end, "
                            + "current_period_end, cancel_at_period_end, connect_account_id, charges_enabled, payouts_enabled, created_at "
                            + "FROM billing_accounts"),
            new Section(
                    "sessions",
                    "SELECT id, created_at, last_used_at, revoked_at, user_agent, host(ip) AS ip FROM sessions"),
            new Section("emails", "SELECT id, template, recipient, status, created_at, sent_at FROM email_outbox"),
            new Section("emailEvents", "SELECT message_id, type, occurred_at FROM email_events ORDER BY occurred_at"),
            new Section(
                    "activity",
                    "SELECT action, occurred_at, host(ip) AS ip, user_agent, details FROM audit_log ORDER BY id"));

    /** The user's address and password hash, to confirm the current password against. */
    record UserSecrets(EmailAddress email, Optional<String> passwordHash) {}

    private final Db db;

    AccountRepository(Db db) {
        this.db = db;
    }

    Future<UserSecrets> userSecrets(UUID accountId, UUID userId) {
        return db.readInAccount(
                accountId,
                tx -> tx.preparedQuery(USER_SECRETS).execute(Tuple.of(userId)).map(rows -> {
                    Row r = rows.iterator().next();
                    return new UserSecrets(
                            EmailAddress.of(r.getString("email")), Optional.ofNullable(r.getString("password_hash")));
                }));
    }

    static Future<Void> changeEmail(SqlConnection tx, UUID userId, EmailAddress email) {
        return tx.preparedQuery(CHANGE_EMAIL)
                .execute(Tuple.of(userId, email.value()))
                .mapEmpty();
    }

    /** Marks the account closed (deleted after {@code deleteAfter}) and ends every session in it. */
    static Future<Void> close(SqlConnection tx, UUID accountId, Instant deleteAfter) {
        return tx.preparedQuery(CLOSE_ACCOUNT)
                .execute(Tuple.of(accountId, deleteAfter.atOffset(ZoneOffset.UTC)))
                .compose(v -> tx.preparedQuery(END_ACCOUNT_SESSIONS).execute())
                .mapEmpty();
    }

    /** Everything the account holds, one section per table, into {@code out}. */
    Future<JsonObject> export(UUID accountId, JsonObject out) {
        return db.inAccount(accountId, tx -> {
            Future<Void> chain = Future.succeededFuture();
            for (Section s : EXPORT) {
                chain = chain.compose(v -> section(tx, out, s));
            }
            return chain.map(out);
        });
    }

    /** One table's rows, as JSON objects keyed by column (Postgres builds the JSON, so every type is rendered faithfully). */
    private static Future<Void> section(SqlConnection tx, JsonObject out, Section section) {
        return tx.query("SELECT coalesce(json_agg(row_to_json(t)), '[]'::json) AS rows FROM (" + section.query()
                        + ") t")
                .execute()
                .map(rows -> {
                    Object value = rows.iterator().next().getValue("rows");
                    out.put(section.name(), value instanceof JsonArray array ? array : new JsonArray());
                    return null;
                });
    }
}
