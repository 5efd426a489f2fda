package uk.co.tradersflow.platform.db;

import static org.assertj.core.api.Assertions.assertThat;
import static uk.co.tradersflow.support.Sql.strings;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import uk.co.tradersflow.support.Sql;

/**
 * The definer functions a request calls on its way are PL/pgSQL (sql/V046): PostgreSQL 15 parses
 * and plans a SQL function it cannot inline again on every call, and for these lookups by a unique
 * key the planning cost more than the lookup (a refresh's rotation ran at 2,110-2,160 a second
 * with the SQL lookup, 3,270-3,500 with this one, in pgbench on two cores).
 */
class HotLookupsKeepTheirPlansTest extends TwoAccountsTest {

    private static final String HOT = "('auth_refresh_token', 'auth_session_refresh_state', 'session_state',"
            + " 'auth_user_by_email',"
            + " 'invoice_lines_json', 'invoice_lines_render', 'invoice_store_reply')";

    @Test
    void theHotLookupsArePlpgsqlAndKeepTheirSecurityAttributes() throws SQLException {
        try (Connection c = server.env.admin()) {
            assertThat(strings(
                            c,
                            "SELECT p.proname || ':' || l.lanname || ':' || p.prosecdef || ':' || p.provolatile::text"
                                    + " || ':' || pg_get_userbyid(p.proowner) || ':' || array_to_string(p.proconfig, ';')"
                                    + " FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang"
                                    + " WHERE p.proname IN " + HOT + " ORDER BY p.proname"))
                    .containsExactly(
                            "auth_refresh_token:plpgsql:true:s:tf_owner:search_path=public, pg_temp",
                            "auth_session_refresh_state:plpgsql:true:s:tf_owner:search_path=public, pg_temp",
                            "auth_user_by_email:plpgsql:true:s:tf_owner:search_path=public, pg_temp",
                            "invoice_lines_json:plpgsql:false:s:tf_owner:search_path=public, pg_temp",
                            "invoice_lines_render:plpgsql:false:s:tf_owner:search_path=public, pg_temp",
                            "invoice_store_reply:plpgsql:true:v:tf_owner:search_path=public, pg_temp",
                            "session_state:plpgsql:true:s:tf_owner:search_path=public, pg_temp");
        }
    }

    /** sql/V050: one user by key and its account are found by index even where a scan looks cheaper. */
    @Test
    void meReadFindsItsRowsByKeyWhateverTheTablesSize() throws SQLException {
        try (Connection c = server.env.admin()) {
            assertThat(strings(c, "SELECT array_to_string(proconfig, ';') FROM pg_proc WHERE proname = 'me_read'"))
                    .containsExactly(
                            "search_path=public, pg_temp;plan_cache_mode=force_generic_plan;enable_seqscan=off");
            try (java.sql.Statement analyse = c.createStatement()) {
                analyse.execute("ANALYZE users, accounts, billing_accounts");
            }
        }
        try (Connection c = server.env.asApp()) {
            for (int call = 1; call <= 8; call++) {
                assertThat(strings(
                                c,
                                "SELECT user_id::text || ':' || account_id FROM me_read('" + a.accountId() + "', '"
                                        + a.userId() + "')"))
                        .as("call " + call)
                        .containsExactly(a.userId() + ":" + a.accountId());
                assertThat(strings(
                                c, "SELECT count(*)::text FROM me_read('" + a.accountId() + "', '" + b.userId() + "')"))
                        .as("another account's user, call " + call)
                        .containsExactly("0");
            }
        }
    }

    /**
     * sql/V053: a batch's numbers are taken by a statement PostgreSQL plans once per connection (as
     * a prepared statement of array parameters it was planned again on every batch), under the
     * caller's row-level security, with the same answers before and after the plan is kept.
     */
    @Test
    void aBatchsNumbersAreTakenUnderTheCallersRightsByAFunctionThatKeepsAGenericPlan() throws SQLException {
        try (Connection c = server.env.admin()) {
            assertThat(strings(
                            c,
                            "SELECT p.prosecdef || ':' || p.provolatile::text || ':' || array_to_string(p.proconfig, ';')"
                                    + " FROM pg_proc p WHERE p.proname = 'invoice_number_all'"))
                    .containsExactly("false:v:search_path=public, pg_temp;plan_cache_mode=force_generic_plan");
        }
        String mine = server.createCustomer(a.token());
        String theirs = server.createCustomer(b.token());
        long taken = Sql.admin()
                .count(
                        "SELECT coalesce(max(last_number), 0) FROM invoice_counters WHERE account_id = ?",
                        a.accountId());
        try (Connection c = server.env.asAppIn(a.accountId())) {
            for (int call = 1; call <= 8; call++) {
                // Three creations: a's customer with a line, b's customer (not found under a's rights)
                // with one, a's customer with no line and a job that is nobody's.
                assertThat(strings(
                                c,
                                "SELECT customer_found || ':' || job_found || ':' || coalesce(number::text, '-') || ':'"
                                        + " || lines_json || ':' || (created_at = now())"
                                        + " FROM invoice_number_all('{" + mine + "," + theirs + "," + mine + "}',"
                                        + " '{NULL,NULL," + UUID.randomUUID() + "}', '{1,2}', '{Call-out,Ghost}',"
                                        + " '{1.005,1}', '{1250,1}')"))
                        .as("call " + call)
                        .containsExactly(
                                "true:true:" + (taken + call) + ":[{\"description\":\"Call-out\",\"quantity\":1.01,"
                                        + "\"unitPence\":1250}]:true",
                                "false:true:-:[{\"description\":\"Ghost\",\"quantity\":1,\"unitPence\":1}]:true",
                                "true:false:-:[]:true");
            }
            c.rollback();
        }
    }

    /**
     * sql/V054: a batch's statements and the lines' trigger render lines in the statement itself,
     * from two SQL functions the planner inlines; a SET clause or SECURITY DEFINER on either would
     * stop that and make each line, and each invoice, a function call again.
     */
    @Test
    void theLinesRenderingIsInlinedIntoTheStatementsThatUseIt() throws SQLException {
        try (Connection c = server.env.asApp()) {
            assertThat(
                            String.join(
                                    "\n",
                                    strings(
                                            c,
                                            "EXPLAIN (VERBOSE, COSTS OFF) SELECT invoice_lines_wrap(string_agg("
                                                    + "invoice_line_json(t.d, t.q, t.p), ',' ORDER BY t.o))"
                                                    + " FROM (VALUES ('Call-out', 1.50::numeric, 1250::bigint, 1)) AS t(d, q, p, o)")))
                    .contains("COALESCE((('['::text || string_agg(format(")
                    .doesNotContain("invoice_lines_wrap", "invoice_line_json");
            assertThat(strings(
                            c,
                            "SELECT invoice_lines_wrap(string_agg(invoice_line_json(t.d, t.q, t.p), ',' ORDER BY t.o))"
                                    + " FROM (VALUES ('Say \"when\"', 2.50::numeric, 4500::bigint, 2),"
                                    + " ('Call-out', 1.01, 0, 1)) AS t(d, q, p, o)"
                                    + " UNION ALL SELECT invoice_lines_wrap(NULL)"))
                    .containsExactly(
                            "[{\"description\":\"Call-out\",\"quantity\":1.01,\"unitPence\":0},"
                                    + "{\"description\":\"Say \\\"when\\\"\",\"quantity\":2.5,\"unitPence\":4500}]",
                            "[]");
            // The inline form says what invoice_lines_json (the previous release's) says, for any input.
            assertThat(
                            strings(
                                    c,
                                    """
              SELECT v.k || ':' || (invoice_lines_json(v.d, v.q, v.p) =
                       (SELECT invoice_lines_wrap(string_agg(invoice_line_json(t.d, t.q::numeric(12, 2), t.p),
                                                             ',' ORDER BY t.o))
                          FROM unnest(v.d, v.q, v.p) WITH ORDINALITY AS t(d, q, p, o)))
                FROM (VALUES (1, ARRAY['Say "when"', 'tab' || chr(9) || 'here', 'ünï €', 'new' || chr(10) || 'line',
                                       'back' || chr(92) || 'slash', chr(1)],
                              ARRAY['1.005', '-0.00', '1e2', ' 2 ', '0.10', '7'], ARRAY[4500, 0, 1, 9, 10, 3]::bigint[]),
                             (2, '{}'::text[], '{}'::text[], '{}'::bigint[])) AS v(k, d, q, p)
               ORDER BY v.k"""))
                    .containsExactly("1:true", "2:true");
        }
    }

    @Test
    void theLookupsAnswerTheSameOnEveryCallOfOneConnection() throws SQLException {
        // PL/pgSQL plans each query at its first call on a connection and reuses the plan after
        // the fifth: the answers must not change when it does.
        try (Connection c = server.env.asApp()) {
            for (int call = 1; call <= 8; call++) {
                assertThat(strings(
                                c,
                                "SELECT account_id::text || ':' || live || ':' || account_status || ':' || email"
                                        + " FROM session_state('" + a.sessionId() + "')"))
                        .as("call " + call)
                        .containsExactly(a.accountId() + ":true:active:" + a.email());
                assertThat(strings(
                                c,
                                "SELECT account_id::text FROM auth_user_by_email('  "
                                        + b.email().toUpperCase() + " ')"))
                        .as("call " + call)
                        .containsExactly(b.accountId().toString());
                assertThat(strings(c, "SELECT count(*)::text FROM auth_refresh_token('\\x00'::bytea)"))
                        .as("call " + call)
                        .containsExactly("0");
                // A creation's lines as invoice_create renders them (V051).
                assertThat(strings(
                                c,
                                "SELECT invoice_lines_json('{\"Say \\\"when\\\"\",Call-out}', '{2.50,1.005}',"
                                        + " '{4500,0}')"))
                        .as("call " + call)
                        .containsExactly("[{\"description\":\"Say \\\"when\\\"\",\"quantity\":2.5,\"unitPence\":4500},"
                                + "{\"description\":\"Call-out\",\"quantity\":1.01,\"unitPence\":0}]");
            }
        }
        // The lines' trigger calls this one as its definer; the runtime role may not.
        try (Connection c = server.env.admin()) {
            for (int call = 1; call <= 8; call++) {
                assertThat(strings(c, "SELECT invoice_lines_render('" + a.accountId() + "', gen_random_uuid())::text"))
                        .as("call " + call)
                        .containsExactly("[]");
            }
        }
    }
}
