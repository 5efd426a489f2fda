-- The lookups on the hot paths keep their plans from one call to the next.
--
-- A LANGUAGE sql function that PostgreSQL cannot inline (SECURITY DEFINER or a SET clause each
-- prevent it) has its query parsed and planned again on every call: PostgreSQL 15 keeps a SQL
-- function's plan only for the statement that called it. For a three-table join by a unique key,
-- the planning is most of the cost. Measured with pgbench (16 clients, 2 cores): the refresh
-- token's lookup, auth_refresh_token, 7,290-7,580 calls a second as SQL, 23,190-23,430 as plpgsql
-- with the same query; a refresh's one statement (auth_refresh_rotate, V044, which calls it) at
-- 64 clients 2,110-2,160 a second before, 3,270-3,500 after.
--
-- plpgsql prepares each query once per connection and reuses the plan (a generic plan once it
-- costs no more than the custom ones, as for any prepared statement). The five functions below are
-- those a request calls on its way (a refresh, a session's state behind the access-token cache, a
-- sign-in's user, an invoice's lines and stored reply on every invoice write). Same signatures,
-- same rows, same volatility, owner, SECURITY DEFINER and search_path, so the grants stand; only
-- the language changes. The admin, report and retention functions stay SQL: they run rarely and
-- their plans depend on their arguments.
SET LOCAL ROLE tf_owner;

CREATE OR REPLACE FUNCTION auth_refresh_token(p_hash bytea)
  RETURNS TABLE (id uuid, account_id uuid, session_id uuid, user_id uuid, expires_at timestamptz,
                 spent_at timestamptz, successor_sealed bytea, session_live boolean, impersonator_id uuid,
                 account_suspended boolean)
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
  BEGIN
    RETURN QUERY
      SELECT r.id, r.account_id, r.session_id, s.user_id, r.expires_at, r.spent_at, r.successor_sealed,
             s.revoked_at IS NULL AND s.expires_at > now(), s.impersonator_id,
             coalesce(a.status = 'suspended', false)
        FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id
        LEFT JOIN accounts a ON a.id = r.account_id
       WHERE r.token_hash = p_hash;
  END $$;

CREATE OR REPLACE FUNCTION session_state(p_session uuid)
  RETURNS TABLE (session_id uuid, user_id uuid, account_id uuid, live boolean, account_status text, email text,
                 email_verified boolean, impersonator_id uuid)
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
  BEGIN
    RETURN QUERY
      SELECT s.id, s.user_id, s.account_id,
             s.revoked_at IS NULL AND s.expires_at > now(),
             a.status, u.email, u.email_verified_at IS NOT NULL, s.impersonator_id
        FROM sessions s
        JOIN users u ON u.id = s.user_id
        JOIN accounts a ON a.id = s.account_id
       WHERE s.id = p_session;
  END $$;

CREATE OR REPLACE FUNCTION auth_user_by_email(p_email text)
  RETURNS TABLE (user_id uuid, account_id uuid, password_hash text, password_epoch integer, email_verified boolean,
                 account_status text)
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
  BEGIN
    RETURN QUERY
      SELECT u.id, u.account_id, u.password_hash, u.password_epoch, u.email_verified_at IS NOT NULL, a.status
        FROM users u JOIN accounts a ON a.id = u.account_id
       WHERE u.email = lower(btrim(p_email));
  END $$;

CREATE OR REPLACE FUNCTION invoice_lines_render(p_account uuid, p_invoice uuid)
  RETURNS json
  LANGUAGE plpgsql STABLE SET search_path = public, pg_temp
  AS $$
  BEGIN
    -- An aggregate without GROUP BY: always exactly one row.
    RETURN (SELECT coalesce('[' || string_agg(format('{"description":%s,"quantity":%s,"unitPence":%s}',
                                                     to_json(l.description), trim_scale(l.quantity), l.unit_pence),
                                              ',' ORDER BY l.position) || ']', '[]')::json
              FROM invoice_lines l WHERE l.account_id = p_account AND l.invoice_id = p_invoice);
  END $$;

CREATE OR REPLACE FUNCTION invoice_store_reply(p_invoice uuid, p_body text)
  RETURNS TABLE (id uuid, number integer, status text, total_pence bigint, created_at timestamptz, body_json text)
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
  BEGIN
    RETURN QUERY
      WITH stored AS (
        UPDATE invoices i SET body_json = p_body
         WHERE i.id = p_invoice AND i.body_json IS NULL
        RETURNING i.id, i.number, i.status, i.total_pence, i.created_at, i.body_json)
      SELECT * FROM stored;
  END $$;
