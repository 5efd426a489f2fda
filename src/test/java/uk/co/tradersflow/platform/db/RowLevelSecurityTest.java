package uk.co.tradersflow.platform.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static uk.co.tradersflow.support.Sql.strings;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import uk.co.tradersflow.support.Sql;

/** What the database itself enforces for the runtime role, independent of any server code. */
class RowLevelSecurityTest extends TwoAccountsTest {

    @BeforeAll
    static void oneCustomerEach() throws SQLException {
        try (Connection c = server.env.admin()) {
            insertCustomer(c, a.accountId(), "A's customer");
            insertCustomer(c, b.accountId(), "B's customer");
        }
    }

    private static void insertCustomer(Connection c, UUID account, String name) throws SQLException {
        Sql.on(c).update("INSERT INTO customers (account_id, name) VALUES (?, ?)", account, name);
    }

    private static void setAccount(Connection c, UUID account) throws SQLException {
        Sql.on(c).execute("SELECT set_config('app.account_id', ?, true)", account.toString());
    }

    @Test
    void withNoAccountSetTheRuntimeRoleSeesNoRowsAtAll() throws SQLException {
        try (Connection c = server.env.asApp()) {
            for (String table : List.of(
                    "accounts", "users", "sessions", "customers", "jobs", "invoices", "invoice_lines", "audit_log")) {
                assertThat(strings(c, "SELECT count(*)::text FROM " + table))
                        .as(table)
                        .containsExactly("0");
            }
        }
    }

    @Test
    void withAccountASetAQueryWithoutAnyWhereClauseReturnsOnlyAsRows() throws SQLException {
        try (Connection c = server.env.asApp()) {
            c.setAutoCommit(false);
            setAccount(c, a.accountId());
            assertThat(strings(c, "SELECT name FROM customers")).containsExactly("A's customer");
            assertThat(strings(c, "SELECT id::text FROM accounts"))
                    .containsExactly(a.accountId().toString());
            assertThat(strings(c, "SELECT email FROM users")).containsExactly(a.email());
            c.rollback();
        }
    }

    @Test
    void theAccountSettingEndsWithItsTransaction() throws SQLException {
        try (Connection c = server.env.asApp()) {
            c.setAutoCommit(false);
            setAccount(c, a.accountId());
            c.commit();
            assertThat(strings(c, "SELECT name FROM customers")).isEmpty();
            c.rollback();
        }
    }

    private static final String FAR_FUTURE = "'infinity', 'ffffffff-ffff-ffff-ffff-ffffffffffff', 100";

    /** The list pages' functions (sql/V024) scope themselves: they read what the named account may read, nothing else. */
    @Test
    void aPageFunctionReadsOnlyTheAccountItNames() throws SQLException {
        try (Connection c = server.env.asApp()) {
            assertThat(strings(c, "SELECT name FROM customer_page('" + a.accountId() + "', " + FAR_FUTURE + ")"))
                    .containsExactly("A's customer");
            assertThat(strings(c, "SELECT name FROM customer_page('" + b.accountId() + "', " + FAR_FUTURE + ")"))
                    .containsExactly("B's customer");
            // /me's read (V043): a user is found only under its own account.
            assertThat(strings(c, "SELECT email FROM me_read('" + a.accountId() + "', '" + a.userId() + "')"))
                    .containsExactly(a.email());
            assertThat(strings(c, "SELECT email FROM me_read('" + a.accountId() + "', '" + b.userId() + "')"))
                    .isEmpty();
            UUID nobody = UUID.randomUUID();
            for (String call :
                    List.of("customer_page('%s', %s)", "job_page('%s', %s, NULL)", "invoice_page('%s', %s, NULL)")) {
                assertThat(strings(c, "SELECT count(*)::text FROM " + call.formatted(nobody, FAR_FUTURE)))
                        .as(call)
                        .containsExactly("0");
            }
        }
    }

    /**
     * Called inside a unit of work for another account, a page function puts the unit's scope
     * back: the unit's next statement still sees its own account's rows and no other.
     */
    @Test
    void aPageFunctionLeavesTheCallersScopeAsItWas() throws SQLException {
        try (Connection c = server.env.asApp()) {
            c.setAutoCommit(false);
            setAccount(c, a.accountId());
            assertThat(strings(c, "SELECT name FROM customer_page('" + b.accountId() + "', " + FAR_FUTURE + ")"))
                    .containsExactly("B's customer");
            assertThat(strings(c, "SELECT name FROM customers")).containsExactly("A's customer");
            // Each function, and each of the status filter's two queries (V026), puts A's scope back.
            for (String call : List.of(
                    "me_read('%s', NULL) -- %s",
                    "job_page('%s', %s, NULL)",
                    "job_page('%s', %s, 'quoted')",
                    "invoice_page('%s', %s, NULL)",
                    "invoice_page('%s', %s, 'draft')")) {
                strings(c, "SELECT count(*)::text FROM " + call.formatted(b.accountId(), FAR_FUTURE));
                assertThat(strings(c, "SELECT name FROM customers"))
                        .as("after " + call)
                        .containsExactly("A's customer");
            }
            c.rollback();
            assertThat(strings(
                            c, "SELECT count(*)::text FROM customer_page('" + b.accountId() + "', " + FAR_FUTURE + ")"))
                    .containsExactly("1");
            assertThat(strings(c, "SELECT coalesce(current_setting('app.account_id', true), '')"))
                    .containsExactly("");
            c.rollback();
        }
    }

    /**
     * They run as their caller (so under its policies) and cannot write: PL/pgSQL refuses writes in
     * a STABLE function. And each keeps one generic plan (V026): left to choose, PostgreSQL planned
     * their queries afresh on every call, which cost more than running them.
     */
    @Test
    void pageFunctionsRunAsTheCallerOnlyReadAndKeepOnePlan() throws SQLException {
        try (Connection c = server.env.admin()) {
            assertThat(
                            strings(
                                    c,
                                    """
          SELECT proname || ':' || prosecdef || ':' || provolatile::text FROM pg_proc
           WHERE proname IN ('customer_page', 'job_page', 'invoice_page') ORDER BY proname"""))
                    .containsExactly("customer_page:false:s", "invoice_page:false:s", "job_page:false:s");
            assertThat(
                            strings(
                                    c,
                                    """
          SELECT proname FROM pg_proc
           WHERE proname IN ('customer_page', 'job_page', 'invoice_page')
             AND 'plan_cache_mode=force_generic_plan' = ANY (proconfig) ORDER BY proname"""))
                    .containsExactly("customer_page", "invoice_page", "job_page");
        }
    }

    /**
     * A refresh's one statement (V044) writes as its caller, under the token's account's policies,
     * not as the definer: the definer function it calls only finds the token.
     */
    @Test
    void theRefreshRotationWritesAsItsCallerAndLeavesTheCallersScopeAsItWas() throws SQLException {
        try (Connection c = server.env.admin()) {
            assertThat(
                            strings(
                                    c,
                                    """
          SELECT proname || ':' || prosecdef || ':' || provolatile::text FROM pg_proc
           WHERE proname = 'auth_refresh_rotate' AND 'plan_cache_mode=force_generic_plan' = ANY (proconfig)"""))
                    .containsExactly("auth_refresh_rotate:false:v");
        }
        byte[] hash = UUID.randomUUID().toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        UUID successor = UUID.randomUUID();
        Sql.admin()
                .update(
                        "INSERT INTO refresh_tokens (account_id, session_id, token_hash, expires_at)"
                                + " VALUES (?, ?, ?, now() + interval '1 hour')",
                        b.accountId(),
                        b.sessionId(),
                        hash);
        try (Connection c = server.env.asApp()) {
            c.setAutoCommit(false);
            setAccount(c, a.accountId());
            assertThat(Sql.on(c)
                            .strings(
                                    "SELECT account_id::text || ':' || rotated FROM auth_refresh_rotate(?, now(), ?,"
                                            + " '\\x00'::bytea, ?, 60)",
                                    hash,
                                    successor,
                                    successor.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8)))
                    .as("B's token, rotated from a transaction scoped to A")
                    .containsExactly(b.accountId() + ":true");
            assertThat(strings(c, "SELECT name FROM customers")).containsExactly("A's customer");
            c.commit();
        }
        assertThat(Sql.admin()
                        .count(
                                "SELECT count(*) FROM refresh_tokens WHERE id = ? AND account_id = ?",
                                successor,
                                b.accountId()))
                .isEqualTo(1);
    }

    /**
     * A refresh's one statement (V049) is a definer function authorised by the session's secret, not
     * by the caller's scope: it moves the session whose secret's hash it is given, that session's
     * refresh columns only, and without it finds nothing, whatever the caller's scope.
     */
    @Test
    void theSessionRotationMovesOnlyTheSessionWhoseSecretItIsGivenAndLeavesTheCallersScopeAlone() throws SQLException {
        try (Connection c = server.env.admin()) {
            assertThat(strings(
                            c,
                            "SELECT proname || ':' || prosecdef || ':' || provolatile::text FROM pg_proc"
                                    + " WHERE proname = 'auth_session_rotate'"))
                    .containsExactly("auth_session_rotate:true:v");
        }
        byte[] secretHash = new byte[32];
        secretHash[0] = 42;
        Sql.admin().update("UPDATE sessions SET refresh_secret_hash = ? WHERE id = ?", secretHash, b.sessionId());
        String untouched = "SELECT md5(row(s.*)::text) FROM sessions s WHERE id <> ? ORDER BY id";
        List<String> othersBefore = Sql.admin().strings(untouched, b.sessionId());
        String bBefore = Sql.admin()
                .string(
                        "SELECT concat_ws(':', refresh_generation, user_agent, expires_at, revoked_at)"
                                + " FROM sessions WHERE id = ?",
                        b.sessionId());
        long before = Long.parseLong(bBefore.substring(0, bBefore.indexOf(':')));
        try (Connection c = server.env.asApp()) {
            c.setAutoCommit(false);
            setAccount(c, a.accountId());
            assertThat(Sql.on(c)
                            .strings(
                                    "SELECT count(*)::text FROM auth_session_rotate(?, ?, ?, now())",
                                    b.sessionId(),
                                    new byte[32],
                                    before))
                    .as("without the session's secret: no such session")
                    .containsExactly("0");
            assertThat(Sql.on(c)
                            .strings(
                                    "SELECT count(*)::text FROM auth_session_rotate(?, NULL, ?, now())",
                                    b.sessionId(),
                                    before))
                    .as("nor with none")
                    .containsExactly("0");
            assertThat(Sql.on(c)
                            .strings(
                                    "SELECT count(*)::text FROM auth_session_rotate(?, ?, 0, now())",
                                    a.sessionId(),
                                    secretHash))
                    .as("a session without a secret (its tokens of the first form not yet rotated) matches none")
                    .containsExactly("0");
            assertThat(Sql.on(c)
                            .strings(
                                    "SELECT account_id::text || ':' || generation || ':' || rotated"
                                            + " FROM auth_session_rotate(?, ?, ?, now())",
                                    b.sessionId(),
                                    secretHash,
                                    before))
                    .as("B's session, with its secret, from a transaction scoped to A")
                    .containsExactly(b.accountId() + ":" + (before + 1) + ":true");
            assertThat(Sql.on(c)
                            .strings(
                                    "SELECT generation || ':' || rotated FROM auth_session_rotate(?, ?, ?, now())",
                                    b.sessionId(),
                                    secretHash,
                                    before))
                    .as("the same generation again: already moved")
                    .containsExactly((before + 1) + ":false");
            assertThat(strings(c, "SELECT current_setting('app.account_id')"))
                    .containsExactly(a.accountId().toString());
            assertThat(strings(c, "SELECT name FROM customers")).containsExactly("A's customer");
            c.commit();
        }
        assertThat(Sql.admin().strings(untouched, b.sessionId()))
                .as("every other session")
                .isEqualTo(othersBefore);
        assertThat(Sql.admin()
                        .string(
                                "SELECT concat_ws(':', refresh_generation, user_agent, expires_at, revoked_at)"
                                        + " FROM sessions WHERE id = ?",
                                b.sessionId()))
                .isEqualTo(bBefore.replaceFirst("^\\d+", Long.toString(before + 1)));
    }

    @Test
    void accountACannotWriteRowsIntoAccountB() throws SQLException {
        try (Connection c = server.env.asApp()) {
            c.setAutoCommit(false);
            setAccount(c, a.accountId());
            assertThatThrownBy(() -> insertCustomer(c, b.accountId(), "planted"))
                    .hasMessageContaining("row-level security");
            c.rollback();
            setAccount(c, a.accountId());
            assertThat(Sql.on(c).update("UPDATE customers SET name = 'renamed'"))
                    .isEqualTo(1);
            assertThat(Sql.on(c).update("DELETE FROM customers WHERE name = 'B''s customer'"))
                    .isZero();
            c.rollback();
        }
    }

    /**
     * The worker role's policies are USING (true) across accounts. The worker logs in on its own
     * (Db.asWorker's pool); the runtime role is not its member, so it neither inherits those
     * policies (they would be OR'ed into every account-scoped query) nor can become the worker by
     * any statement it runs (V017).
     */
    @Test
    void theWorkerRolesCrossAccountPoliciesNeverWidenWhatTheRuntimeRoleSees() throws SQLException {
        Sql.admin()
                .update("INSERT INTO email_outbox (account_id, template, recipient, dedupe_key) VALUES ('"
                        + b.accountId() + "', 'verify_email', 'b@example.test', 'rls-test-" + UUID.randomUUID() + "')");
        Sql.admin()
                .update("INSERT INTO storage_garbage (account_id, blob_name, delete_after) VALUES ('" + b.accountId()
                        + "', 'rlsTestBlobNameOfAccountB0123', now())");
        try (Connection c = server.env.asApp()) {
            assertThat(
                            strings(
                                    c,
                                    "SELECT pg_has_role('tf_app', 'tf_worker', 'MEMBER')::text || pg_has_role('tf_app', 'tf_worker', 'USAGE')::text"))
                    .as("neither a member nor an heir")
                    .containsExactly("falsefalse");
            c.setAutoCommit(false);
            setAccount(c, a.accountId());
            assertThat(strings(c, "SELECT recipient FROM email_outbox")).doesNotContain("b@example.test");
            assertThat(strings(c, "SELECT blob_name FROM storage_garbage")).isEmpty();
            try (Statement s = c.createStatement()) {
                assertThatThrownBy(() -> s.execute("SET LOCAL ROLE tf_worker"))
                        .as("no statement of a request becomes the worker")
                        .hasMessageContaining("permission denied");
            }
            c.rollback();
        }
        try (Connection c = server.env.asWorker()) {
            assertThat(strings(c, "SELECT blob_name FROM storage_garbage"))
                    .as("the worker's own login")
                    .contains("rlsTestBlobNameOfAccountB0123");
        }
    }

    @Test
    void theRuntimeRoleIsNoSuperuserBypassesNoRlsAndOwnsNothing() throws SQLException {
        try (Connection c = server.env.asApp()) {
            assertThat(
                            strings(
                                    c,
                                    "SELECT (rolsuper OR rolbypassrls OR rolcreaterole OR rolcreatedb)::text FROM pg_roles WHERE rolname = 'tf_app'"))
                    .containsExactly("false");
            assertThat(strings(
                            c,
                            "SELECT relname::text FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
                                    + "WHERE r.rolname IN ('tf_app', 'tf_worker')"))
                    .isEmpty();
        }
    }

    private static final String ACCOUNT_TABLES =
            """
      SELECT c.oid, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND c.relkind = 'r'
         AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'account_id' AND NOT a.attisdropped)""";

    /**
     * RLS switched on with no policy denies everything, so a grant on such a table is either dead
     * or the sign of a policy forgotten, and a later "fix" that disables RLS to make it work would
     * open the table to every account: both are caught here.
     */
    @Test
    void everyTableWithAnAccountColumnHasAPolicyAndTheRuntimeRoleHasNoGrantOnOneWithout() throws SQLException {
        try (Connection c = server.env.admin()) {
            List<String> withoutPolicy = strings(
                    c,
                    "SELECT t.relname::text FROM (" + ACCOUNT_TABLES + ") t "
                            + "WHERE NOT EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = t.oid)");
            assertThat(withoutPolicy)
                    .as("account tables without a row-level security policy")
                    .isEmpty();
            List<String> grantedWithoutPolicyForApp = strings(
                    c,
                    "SELECT t.relname::text FROM (" + ACCOUNT_TABLES + ") t "
                            + "WHERE NOT EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = t.oid "
                            + "                    AND (0 = ANY (p.polroles) OR (SELECT oid FROM pg_roles WHERE rolname = 'tf_app') = ANY (p.polroles))) "
                            + "  AND has_table_privilege('tf_app', t.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')");
            assertThat(grantedWithoutPolicyForApp)
                    .as("account tables tf_app may touch but no policy covers it")
                    .isEmpty();
        }
    }

    @Test
    void everyTableWithAnAccountColumnHasRowLevelSecurityEnabledAndForced() throws SQLException {
        try (Connection c = server.env.admin()) {
            List<String> unprotected = strings(
                    c,
                    """
          SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'public' AND c.relkind = 'r'
             AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'account_id')
             AND NOT (c.relrowsecurity AND c.relforcerowsecurity)""");
            assertThat(unprotected).isEmpty();
            List<String> owners = strings(
                    c,
                    """
          SELECT DISTINCT r.rolname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_roles r ON r.oid = c.relowner
           WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname <> 'flyway_schema_history'""");
            assertThat(owners).containsExactly("tf_owner");
        }
    }

    @Test
    void auditLogRefusesUpdateDeleteAndTruncateToTheRuntimeRoles() throws SQLException {
        try (Connection c = server.env.asApp()) {
            c.setAutoCommit(false);
            setAccount(c, a.accountId());
            Sql.on(c)
                    .update("INSERT INTO audit_log (account_id, actor_type, action) VALUES ('" + a.accountId()
                            + "', 'user', 'test.entry')");
            c.commit();
            assertPermissionDenied(
                    c,
                    List.of("UPDATE audit_log SET action = 'edited'", "DELETE FROM audit_log", "TRUNCATE audit_log"));
        }
    }

    /**
     * The runtime role writes only what requests write: it cannot delete an invoice (they are
     * voided, their numbers gap-free), set a subscription's status or connected account's state
     * (Stripe's webhooks do, as the worker), or touch a user's other columns.
     */
    @Test
    void theRuntimeRoleWritesOnlyTheColumnsRequestsWrite() throws SQLException {
        try (Connection c = server.env.asApp()) {
            c.setAutoCommit(false);
            assertPermissionDenied(
                    c,
                    List.of(
                            "DELETE FROM invoices",
                            "DELETE FROM invoice_counters",
                            "UPDATE billing_accounts SET subscription_status = 'active'",
                            "UPDATE billing_accounts SET charges_enabled = true",
                            "INSERT INTO billing_accounts (account_id, subscription_status) VALUES (app_account_id(), 'active')",
                            "UPDATE users SET created_at = now()",
                            "UPDATE users SET account_id = account_id",
                            "INSERT INTO users (id, account_id, email, password_hash, email_verified_at) "
                                    + "VALUES (gen_random_uuid(), app_account_id(), 'x@example.test', 'h', now())"));
        }
    }

    /** Each statement, run as account A in a transaction of its own, is refused by a privilege check. */
    private static void assertPermissionDenied(Connection c, List<String> statements) throws SQLException {
        for (String sql : statements) {
            setAccount(c, a.accountId());
            assertThatThrownBy(() -> {
                        try (Statement s = c.createStatement()) {
                            s.execute(sql);
                        }
                    })
                    .as(sql)
                    .isInstanceOf(SQLException.class)
                    .hasMessageContaining("permission denied");
            c.rollback();
        }
    }

    /** An entry's id and time are the database's: a runtime role can neither back-date nor pre-empt them. */
    @Test
    void theRuntimeRoleCannotChooseAnAuditEntrysIdOrTime() throws SQLException {
        try (Connection c = server.env.asApp()) {
            c.setAutoCommit(false);
            assertPermissionDenied(
                    c,
                    List.of(
                            "INSERT INTO audit_log (id, account_id, actor_type, action) OVERRIDING SYSTEM VALUE VALUES (999999999, '"
                                    + a.accountId() + "', 'user', 'test.entry')",
                            "INSERT INTO audit_log (account_id, actor_type, action, occurred_at) VALUES ('"
                                    + a.accountId() + "', 'owner', 'test.entry', '2001-01-01')"));
        }
    }

    /** The retention functions act on closed accounts only, whoever calls them. */
    @Test
    void anActiveAccountsSubscriptionCannotBeMarkedCancelledThroughTheRetentionFunction() throws SQLException {
        Sql.admin()
                .update(
                        "INSERT INTO billing_accounts (account_id, stripe_customer_id, subscription_id, subscription_status) VALUES ('"
                                + a.accountId() + "', 'cus_rls"
                                + a.accountId().toString().replace("-", "") + "', 'sub_rls"
                                + a.accountId().toString().replace("-", "") + "', 'active')");
        try (Connection c = server.env.asWorker()) {
            c.setAutoCommit(false);
            Sql.on(c).execute("SELECT retention_subscription_cancelled('" + a.accountId() + "')");
            // Read in the same transaction, before it is rolled back: afterwards it would hold anyway.
            assertThat(strings(
                            c,
                            "SELECT subscription_status FROM billing_accounts WHERE account_id = '" + a.accountId()
                                    + "'"))
                    .containsExactly("active");
            c.rollback();
        }
    }

    /**
     * Every request runs as tf_app, so each SECURITY DEFINER function it may call is a door past
     * row-level security. The list is closed: a new grant has to be added here, on purpose.
     */
    @Test
    void theRuntimeRoleMayCallOnlyTheDefinerFunctionsARequestNeeds() throws SQLException {
        try (Connection c = server.env.admin()) {
            List<String> callable = strings(
                    c,
                    """
          SELECT p.proname::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname = 'public' AND p.prosecdef AND has_function_privilege('tf_app', p.oid, 'EXECUTE')
           ORDER BY 1""");
            // invoice_render_pending / invoice_store_reply (V029) reach only invoices whose reply the
            // caller's own transaction left pending: no committed row, and no other transaction's.
            assertThat(callable)
                    .containsExactly(
                            "audit_seal",
                            "auth_link_token",
                            "auth_refresh_token",
                            // V049: a refresh's session, found and moved by its secret's hash.
                            "auth_session_refresh_state",
                            "auth_session_rotate",
                            "auth_user_by_email",
                            // V034: which user a Google or Apple subject signs into, before the account is known.
                            "auth_user_by_identity",
                            // V047: writes only in the caller's account scope, and only lines_json it renders itself.
                            "invoice_create",
                            // V052: the same for a batch of creations.
                            "invoice_create_many",
                            "invoice_render_pending",
                            "invoice_store_reply",
                            "session_state",
                            // V032: which account a support sign-in link's token belongs to, before it is known.
                            "signin_link_account");
        }
    }
}
