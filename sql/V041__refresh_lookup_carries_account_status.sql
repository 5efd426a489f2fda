-- Refresh: the token's lookup also says whether its account is suspended, so a refresh needs no
-- second read (an RLS transaction of its own) before it rotates. A missing account reads as not
-- suspended, as the separate read treated it ('closed').
SET LOCAL ROLE tf_owner;

DROP FUNCTION auth_refresh_token(bytea);
CREATE FUNCTION auth_refresh_token(p_hash bytea)
  RETURNS TABLE (id uuid, account_id uuid, session_id uuid, user_id uuid, expires_at timestamptz,
                 spent_at timestamptz, successor_sealed bytea, session_live boolean, impersonator_id uuid,
                 account_suspended boolean)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    SELECT r.id, r.account_id, r.session_id, s.user_id, r.expires_at, r.spent_at, r.successor_sealed,
           s.revoked_at IS NULL AND s.expires_at > now(), s.impersonator_id,
           coalesce(a.status = 'suspended', false)
      FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id
      LEFT JOIN accounts a ON a.id = r.account_id
     WHERE r.token_hash = p_hash
  $$;
GRANT EXECUTE ON FUNCTION auth_refresh_token(bytea) TO tf_app;
