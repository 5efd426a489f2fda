-- A refresh as one statement: the token's lookup, the checks and the rotation in one round trip
-- and one commit.
--
-- A refresh was three round trips on two borrowed connections: the lookup (auth_refresh_token,
-- V041) on one, then BEGIN + set_config + the rotation and, after their answer, COMMIT on another.
-- At 64 concurrent refreshes the requests queued for the pool's connections, each held for two
-- round trips and a WAL flush. auth_refresh_rotate does the same work in one statement:
--
--  * it finds the token through auth_refresh_token (SECURITY DEFINER: it reveals only what the
--    decision needs), then scopes itself to the token's account as me_read (V043) does, so the
--    rotation runs as the caller, tf_app, under the account's row-level security;
--  * it rotates only a token the server would have rotated: found, its session live, not expired
--    at p_now (the server's clock, as the server judged it before), its account not suspended,
--    and not yet spent. The rotation is V041's statement: the UPDATE's `spent_at IS NULL` decides
--    a race, and a loser reads the row again, as the winner left it (spent, its successor sealed);
--  * its answer is auth_refresh_token's row and whether this call rotated it. The server decides
--    everything else from that row as before: the refused, the grace, reuse ending the family.
SET LOCAL ROLE tf_owner;

CREATE FUNCTION auth_refresh_rotate(p_hash bytea, p_now timestamptz, p_successor_id uuid,
                                    p_successor_sealed bytea, p_successor_hash bytea, p_life_seconds bigint)
  RETURNS TABLE (id uuid, account_id uuid, session_id uuid, user_id uuid, expires_at timestamptz,
                 spent_at timestamptz, successor_sealed bytea, session_live boolean, impersonator_id uuid,
                 account_suspended boolean, rotated boolean)
  LANGUAGE plpgsql VOLATILE
  SET search_path = public, pg_temp
  SET plan_cache_mode = force_generic_plan
  AS $$
  DECLARE
    caller_scope text := current_setting('app.account_id', true);
    t record;
    won boolean := false;
  BEGIN
    SELECT * INTO t FROM auth_refresh_token(p_hash) AS f;
    IF NOT FOUND THEN
      RETURN;
    END IF;
    IF t.session_live AND t.expires_at >= p_now AND NOT t.account_suspended AND t.spent_at IS NULL THEN
      PERFORM set_config('app.account_id', t.account_id::text, true);
      WITH spent AS (
        UPDATE refresh_tokens r
           SET spent_at = now(), successor_id = p_successor_id, successor_sealed = p_successor_sealed
         WHERE r.id = t.id AND r.spent_at IS NULL
        RETURNING r.account_id, r.session_id),
      successor AS (
        INSERT INTO refresh_tokens (id, account_id, session_id, token_hash, expires_at)
        SELECT p_successor_id, s.account_id, s.session_id, p_successor_hash,
               now() + p_life_seconds * interval '1 second'
          FROM spent s),
      touched AS (
        UPDATE sessions ss SET last_used_at = now() WHERE ss.id IN (SELECT s.session_id FROM spent s))
      SELECT count(*) = 1 INTO won FROM spent;
      PERFORM set_config('app.account_id', coalesce(caller_scope, ''), true);
      IF NOT won THEN
        SELECT * INTO t FROM auth_refresh_token(p_hash) AS f;
      END IF;
    END IF;
    RETURN QUERY SELECT t.id, t.account_id, t.session_id, t.user_id, t.expires_at, t.spent_at,
                        t.successor_sealed, t.session_live, t.impersonator_id, t.account_suspended, won;
  END $$;

REVOKE ALL ON FUNCTION auth_refresh_rotate(bytea, timestamptz, uuid, bytea, bytea, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_refresh_rotate(bytea, timestamptz, uuid, bytea, bytea, bigint) TO tf_app;
