-- A refresh writes one row: its session's.
--
-- A refresh token was a random value kept as a hash, a refresh_tokens row each: rotating spent
-- one row, inserted its successor (three index entries) and touched the session, three rows a
-- refresh, 4,720 a second at most here before the server did anything. A token is now the session,
-- a generation and an HMAC over both (auth/RefreshTokens.java); the session keeps its current
-- generation and when it was reached. Rotating is one UPDATE of one row whose changed columns no
-- index covers (so it can stay on its page, HOT), 7,740-8,928 a second on the same machine.
--
-- Every earlier generation is recognised without a row of its own: the generation just before the
-- current one, presented within the grace period after it was spent, answers the current one again
-- (the mobile race); any earlier one, or that one after the grace period, is reuse and ends the
-- session. refresh_tokens stays for the tokens issued before this release, which rotate once into
-- this form (SessionService); none is issued any more, and none outlives its session (30 days).
SET LOCAL ROLE tf_owner;

ALTER TABLE sessions
  ADD COLUMN refresh_generation bigint NOT NULL DEFAULT 0 CHECK (refresh_generation >= 0),
  ADD COLUMN refreshed_at timestamptz;
-- Room on each page for the rotated row's new version, so the update stays HOT.
ALTER TABLE sessions SET (fillfactor = 80);
GRANT UPDATE (refresh_generation, refreshed_at) ON sessions TO tf_app;

-- Before the request knows its account: reveals only what a refresh decides by.
CREATE FUNCTION auth_session_refresh_state(p_session uuid)
  RETURNS TABLE (account_id uuid, user_id uuid, impersonator_id uuid, expires_at timestamptz, session_live boolean,
                 account_suspended boolean, generation bigint, refreshed_at timestamptz)
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
  BEGIN
    RETURN QUERY
      SELECT s.account_id, s.user_id, s.impersonator_id, s.expires_at,
             s.revoked_at IS NULL AND s.expires_at > now(),
             coalesce(a.status = 'suspended', false), s.refresh_generation, s.refreshed_at
        FROM sessions s LEFT JOIN accounts a ON a.id = s.account_id
       WHERE s.id = p_session;
  END $$;
REVOKE ALL ON FUNCTION auth_session_refresh_state(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_session_refresh_state(uuid) TO tf_app;

-- The refresh in one statement, as auth_refresh_rotate (V044) was: it finds the session through the
-- definer lookup, then scopes itself to the session's account, so the rotation runs as the caller
-- (tf_app) under the account's row-level security. It rotates only what the server would have: a
-- live session, not expired at p_now (the server's clock), its account not suspended, at the
-- presented generation. The UPDATE's own condition on the generation decides a race; a loser reads
-- the session again, as the winner left it. Its answer is the session's state after the call and
-- whether this call rotated it; the server decides the rest (refused, grace, reuse).
CREATE FUNCTION auth_session_rotate(p_session uuid, p_generation bigint, p_now timestamptz)
  RETURNS TABLE (account_id uuid, user_id uuid, impersonator_id uuid, expires_at timestamptz, session_live boolean,
                 account_suspended boolean, generation bigint, refreshed_at timestamptz, rotated boolean)
  LANGUAGE plpgsql VOLATILE
  SET search_path = public, pg_temp
  SET plan_cache_mode = force_generic_plan
  AS $$
  DECLARE
    caller_scope text := current_setting('app.account_id', true);
    t record;
    won boolean := false;
  BEGIN
    SELECT * INTO t FROM auth_session_refresh_state(p_session) AS f;
    IF NOT FOUND THEN
      RETURN;
    END IF;
    IF t.session_live AND t.expires_at >= p_now AND NOT t.account_suspended AND t.generation = p_generation THEN
      PERFORM set_config('app.account_id', t.account_id::text, true);
      UPDATE sessions s
         SET refresh_generation = p_generation + 1, refreshed_at = now(), last_used_at = now()
       WHERE s.id = p_session AND s.refresh_generation = p_generation AND s.revoked_at IS NULL
      RETURNING s.refresh_generation, s.refreshed_at INTO t.generation, t.refreshed_at;
      won := FOUND;
      PERFORM set_config('app.account_id', coalesce(caller_scope, ''), true);
      IF NOT won THEN
        SELECT * INTO t FROM auth_session_refresh_state(p_session) AS f;
      END IF;
    END IF;
    RETURN QUERY SELECT t.account_id, t.user_id, t.impersonator_id, t.expires_at, t.session_live,
                        t.account_suspended, t.generation, t.refreshed_at, won;
  END $$;
REVOKE ALL ON FUNCTION auth_session_rotate(uuid, bigint, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_session_rotate(uuid, bigint, timestamptz) TO tf_app;
