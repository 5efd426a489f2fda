-- A refresh writes one row: its session's.
--
-- A refresh token was a random value kept as a hash, a refresh_tokens row each: rotating spent
-- one row, inserted its successor (three index entries) and touched the session, three rows a
-- refresh, 4,720 a second at most here before the server did anything. A token is now the session,
-- a generation, the session's secret and an HMAC over the three (auth/RefreshTokens.java); the
-- session keeps its secret's SHA-256 (written once, at sign-in), its current generation and when
-- the last two were reached. Rotating is one UPDATE of one row whose changed columns no index
-- covers (so it can stay on its page, HOT), 7,740-8,928 a second on the same machine.
--
-- Every earlier generation is recognised without a row of its own. A token spent within the grace
-- period answers its successor again (the mobile race; the last two spends are remembered, so a
-- client that raced and then refreshed once more is still answered); any other spent one is reuse
-- and ends the session. Nothing finds or moves a session without its secret's hash: knowing a
-- session id (access tokens carry it) reaches nothing. (The runtime role can read the hashes, as it
-- can read every account's rows by naming the account: RLS scopes requests, it does not stand
-- between the database and a statement the server did not mean to send.)
--
-- refresh_tokens stays for the tokens issued before this release: each rotates once more the old
-- way into its session's first generation (auth_refresh_rotate_into_session); no row is written for
-- a new session, and none outlives its session (30 days).
SET LOCAL ROLE tf_owner;

ALTER TABLE sessions
  ADD COLUMN refresh_secret_hash bytea CHECK (length(refresh_secret_hash) = 32),
  ADD COLUMN refresh_generation bigint NOT NULL DEFAULT 0 CHECK (refresh_generation >= 0),
  ADD COLUMN refreshed_at timestamptz,
  ADD COLUMN previously_refreshed_at timestamptz;
-- Room on each page for the rotated row's new version, so the update stays HOT.
ALTER TABLE sessions SET (fillfactor = 80);
GRANT UPDATE (refresh_secret_hash, refresh_generation, refreshed_at, previously_refreshed_at) ON sessions TO tf_app;

-- Before the request knows its account: reveals only what a refresh decides by, and only to the
-- holder of the session's secret.
CREATE FUNCTION auth_session_refresh_state(p_session uuid, p_secret_hash bytea)
  RETURNS TABLE (account_id uuid, user_id uuid, impersonator_id uuid, expires_at timestamptz, session_live boolean,
                 account_suspended boolean, generation bigint, refreshed_at timestamptz,
                 previously_refreshed_at timestamptz)
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
  BEGIN
    RETURN QUERY
      SELECT s.account_id, s.user_id, s.impersonator_id, s.expires_at,
             s.revoked_at IS NULL AND s.expires_at > now(),
             coalesce(a.status = 'suspended', false), s.refresh_generation, s.refreshed_at,
             s.previously_refreshed_at
        FROM sessions s LEFT JOIN accounts a ON a.id = s.account_id
       WHERE s.id = p_session AND s.refresh_secret_hash = p_secret_hash;
  END $$;
REVOKE ALL ON FUNCTION auth_session_refresh_state(uuid, bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_session_refresh_state(uuid, bytea) TO tf_app;

-- The refresh in one statement. It moves the session only if the server would have: the secret's
-- hash matches, the session is at the presented generation, live, not expired at p_now (the
-- server's clock) and its account not suspended; the UPDATE's own conditions decide a race with
-- another refresh or a revocation. Otherwise (a loser included) it answers the session's state,
-- read by a statement of its own, so after any winner's commit. The server decides the rest.
--
-- SECURITY DEFINER, unlike auth_refresh_rotate (V044), which scoped itself to the token's account
-- to write as the caller: here what authorises the write is the secret's hash, which the request
-- has only from the token, and the write is that one session's refresh columns. Scoping cost a
-- definer lookup, two set_config calls and a second probe of the row: driven by pgbench alone
-- (load-tests/refresh-rotation-anchor.sh, 64 clients) the scoped statement ran 12,608-13,579
-- rotations a second, this one 20,327-21,681.
CREATE FUNCTION auth_session_rotate(p_session uuid, p_secret_hash bytea, p_generation bigint, p_now timestamptz)
  RETURNS TABLE (account_id uuid, user_id uuid, impersonator_id uuid, expires_at timestamptz, session_live boolean,
                 account_suspended boolean, generation bigint, refreshed_at timestamptz,
                 previously_refreshed_at timestamptz, rotated boolean)
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = public, pg_temp
  AS $$
  BEGIN
    RETURN QUERY
      UPDATE sessions s
         SET refresh_generation = p_generation + 1, previously_refreshed_at = s.refreshed_at,
             refreshed_at = now(), last_used_at = now()
       WHERE s.id = p_session AND s.refresh_secret_hash = p_secret_hash AND s.refresh_generation = p_generation
         AND s.revoked_at IS NULL AND s.expires_at > now() AND s.expires_at >= p_now
         AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = s.account_id AND a.status = 'suspended')
      RETURNING s.account_id, s.user_id, s.impersonator_id, s.expires_at, true, false, s.refresh_generation,
                s.refreshed_at, s.previously_refreshed_at, true;
    IF NOT FOUND THEN
      RETURN QUERY SELECT f.*, false FROM auth_session_refresh_state(p_session, p_secret_hash) AS f;
    END IF;
  END $$;
REVOKE ALL ON FUNCTION auth_session_rotate(uuid, bytea, bigint, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_session_rotate(uuid, bytea, bigint, timestamptz) TO tf_app;

-- A token issued before this release, rotated as V044 rotates it, and its session given the secret
-- of its first token of the new form (generation 0; any token of the new form the session had is
-- refused from then on, its secret replaced). The successor row auth_refresh_rotate inserts gets a
-- hash drawn here and forgotten: the new token is never looked up by hash, and a previous release's
-- instance must not find that row either. Answers what auth_refresh_rotate answers.
CREATE FUNCTION auth_refresh_rotate_into_session(p_hash bytea, p_now timestamptz, p_successor_id uuid,
                                                 p_successor_sealed bytea, p_life_seconds bigint,
                                                 p_secret_hash bytea)
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
  BEGIN
    SELECT * INTO t FROM auth_refresh_rotate(p_hash, p_now, p_successor_id, p_successor_sealed,
                                             sha256(convert_to(gen_random_uuid()::text || clock_timestamp()::text,
                                                               'UTF8')),
                                             p_life_seconds) AS f;
    IF NOT FOUND THEN
      RETURN;
    END IF;
    IF t.rotated THEN
      PERFORM set_config('app.account_id', t.account_id::text, true);
      UPDATE sessions s
         SET refresh_secret_hash = p_secret_hash, refresh_generation = 0, refreshed_at = NULL,
             previously_refreshed_at = NULL
       WHERE s.id = t.session_id;
      IF NOT FOUND THEN
        RAISE EXCEPTION 'the session of a rotated refresh token is not in its account' USING ERRCODE = 'data_exception';
      END IF;
      PERFORM set_config('app.account_id', coalesce(caller_scope, ''), true);
    END IF;
    RETURN QUERY SELECT t.id, t.account_id, t.session_id, t.user_id, t.expires_at, t.spent_at, t.successor_sealed,
                        t.session_live, t.impersonator_id, t.account_suspended, t.rotated;
  END $$;
REVOKE ALL ON FUNCTION auth_refresh_rotate_into_session(bytea, timestamptz, uuid, bytea, bigint, bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_refresh_rotate_into_session(bytea, timestamptz, uuid, bytea, bigint, bytea) TO tf_app;
