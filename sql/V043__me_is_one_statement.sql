-- GET /api/v1/me as one statement, as the list pages are (V024, V026).
--
-- /me was a unit of work: a pooled connection borrowed for BEGIN READ ONLY, set_config, the
-- query and COMMIT, four messages and a flush each, for one row. It did less database work than
-- the invoice list and ran no faster. me_read scopes itself exactly as the page functions do:
-- SECURITY INVOKER (so the caller's row-level security decides what it reads), STABLE, the
-- account set first and the caller's scope put back after, one generic plan. The user is read
-- under the account's scope, so a user id of another account finds nothing.
SET LOCAL ROLE tf_owner;

CREATE FUNCTION me_read(p_account uuid, p_user uuid)
  RETURNS TABLE (user_id uuid, email text, email_verified boolean, account_id uuid, business_name text,
                 status text, subscription_status text, trial_end timestamptz, current_period_end timestamptz)
  LANGUAGE plpgsql STABLE
  SET search_path = public, pg_temp
  SET plan_cache_mode = force_generic_plan
  AS $$
  DECLARE
    caller_scope text := current_setting('app.account_id', true);
  BEGIN
    PERFORM set_config('app.account_id', p_account::text, true);
    RETURN QUERY
      SELECT u.id, u.email, u.email_verified_at IS NOT NULL, a.id, a.business_name, a.status,
             coalesce(b.subscription_status, 'none'), b.trial_end, b.current_period_end
        FROM users u JOIN accounts a ON a.id = u.account_id
        LEFT JOIN billing_accounts b ON b.account_id = a.id
       WHERE u.id = p_user;
    PERFORM set_config('app.account_id', coalesce(caller_scope, ''), true);
  END $$;

REVOKE ALL ON FUNCTION me_read(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION me_read(uuid, uuid) TO tf_app;
