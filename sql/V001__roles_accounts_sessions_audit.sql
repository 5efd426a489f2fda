-- Foundation: roles, accounts, users, sessions and the append-only audit log.
--
-- Who is who:
--   tf_owner  owns every table and function; nobody logs in as it.
--   tf_app    the server's runtime login: not a superuser, owns nothing, no BYPASSRLS.
--   tf_worker a narrowly granted role tf_app may SET LOCAL for work that crosses accounts
--             (email dispatch, webhook effects); it sees only what its own policies allow.
-- Every table holding account data has RLS enabled AND forced, so even the owner is filtered.

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tf_owner') THEN
    CREATE ROLE tf_owner NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tf_worker') THEN
    CREATE ROLE tf_worker NOLOGIN NOBYPASSRLS;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tf_app') THEN
    CREATE ROLE tf_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
  END IF;
END $$;

GRANT tf_worker TO tf_app;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE, CREATE ON SCHEMA public TO tf_owner;
GRANT USAGE ON SCHEMA public TO tf_app, tf_worker;

SET LOCAL ROLE tf_owner;

-- Nothing created from here on is usable by anyone not named in a GRANT.
ALTER DEFAULT PRIVILEGES FOR ROLE tf_owner REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

-- The account the current transaction acts for, or NULL when none was set (then RLS shows nothing).
CREATE FUNCTION app_account_id() RETURNS uuid
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT nullif(current_setting('app.account_id', true), '')::uuid $$;
GRANT EXECUTE ON FUNCTION app_account_id() TO tf_app, tf_worker;

CREATE TABLE accounts (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  business_name text NOT NULL CHECK (length(business_name) BETWEEN 1 AND 200),
  status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'closed')),
  -- Bumped to kill every outstanding signed file URL of the account at once (sign-out everywhere).
  file_url_epoch integer NOT NULL DEFAULT 0,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE accounts FORCE ROW LEVEL SECURITY;
CREATE POLICY accounts_own ON accounts TO tf_app
  USING (id = (SELECT nullif(current_setting('app.account_id', true), '')::uuid));
GRANT SELECT, UPDATE (business_name, file_url_epoch, updated_at) ON accounts TO tf_app;

CREATE TABLE users (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id         uuid NOT NULL REFERENCES accounts(id),
  email              text NOT NULL CHECK (email = lower(btrim(email)) AND length(email) BETWEEN 3 AND 254),
  email_verified_at  timestamptz,
  password_hash      text,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  UNIQUE (account_id, id)
);
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE INDEX users_account_idx ON users (account_id);
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY users_own ON users TO tf_app
  USING (account_id = (SELECT nullif(current_setting('app.account_id', true), '')::uuid));
GRANT SELECT, INSERT, UPDATE ON users TO tf_app;

CREATE TABLE sessions (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id       uuid NOT NULL,
  user_id          uuid NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  last_used_at     timestamptz NOT NULL DEFAULT now(),
  expires_at       timestamptz NOT NULL,
  revoked_at       timestamptz,
  revoked_reason   text,
  user_agent       text NOT NULL DEFAULT '' CHECK (length(user_agent) <= 512),
  ip               inet,
  impersonator_id  uuid,
  FOREIGN KEY (account_id, user_id) REFERENCES users (account_id, id)
);
CREATE INDEX sessions_account_user_idx ON sessions (account_id, user_id) WHERE revoked_at IS NULL;
ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY sessions_own ON sessions TO tf_app
  USING (account_id = (SELECT nullif(current_setting('app.account_id', true), '')::uuid));
GRANT SELECT, INSERT, UPDATE (last_used_at, revoked_at, revoked_reason, expires_at) ON sessions TO tf_app;

-- Runs for every authenticated request (cached for a second), before the request's account is
-- trusted: reveals only the named session's state. The owner needs its own policy to read
-- through FORCE'd RLS; that policy is reachable only through SECURITY DEFINER functions.
CREATE POLICY accounts_definer ON accounts TO tf_owner USING (true);
CREATE POLICY users_definer ON users TO tf_owner USING (true);
CREATE POLICY sessions_definer ON sessions TO tf_owner USING (true);

CREATE FUNCTION session_state(p_session uuid)
  RETURNS TABLE (session_id uuid, user_id uuid, account_id uuid, live boolean, account_status text,
                 email text, email_verified boolean, impersonator_id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    SELECT s.id, s.user_id, s.account_id,
           s.revoked_at IS NULL AND s.expires_at > now(),
           a.status, u.email, u.email_verified_at IS NOT NULL, s.impersonator_id
      FROM sessions s
      JOIN users u ON u.id = s.user_id
      JOIN accounts a ON a.id = s.account_id
     WHERE s.id = p_session
  $$;
GRANT EXECUTE ON FUNCTION session_state(uuid) TO tf_app;

-- ---------------------------------------------------------------------------------------------
-- Audit log: insert-only for the runtime, sealed into a SHA-256 hash chain shortly after commit.
-- Writers never wait on a chain lock: each entry is inserted unsealed, and one sealer at a time
-- (an advisory lock) chains committed entries in id order. An entry committed late, behind one
-- already sealed, is simply sealed in the next round: the chain order is seal_seq, not id.
CREATE TABLE audit_log (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  occurred_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
  account_id       uuid,
  actor_type       text NOT NULL CHECK (actor_type IN ('user', 'owner', 'system', 'stripe')),
  actor_id         uuid,
  impersonator_id  uuid,
  action           text NOT NULL CHECK (action ~ '^[a-z][a-z0-9_.]{1,63}$'),
  target_type      text,
  target_id        text,
  ip               inet,
  user_agent       text CHECK (length(user_agent) <= 512),
  details          jsonb NOT NULL DEFAULT '{}'::jsonb,
  seal_seq         bigint UNIQUE,
  prev_hash        text,
  hash             text
);
CREATE INDEX audit_log_account_idx ON audit_log (account_id, id DESC);
CREATE INDEX audit_log_unsealed_idx ON audit_log (id) WHERE seal_seq IS NULL;
ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_own_read ON audit_log FOR SELECT TO tf_app
  USING (account_id = (SELECT nullif(current_setting('app.account_id', true), '')::uuid));
CREATE POLICY audit_own_insert ON audit_log FOR INSERT TO tf_app
  WITH CHECK (account_id = (SELECT nullif(current_setting('app.account_id', true), '')::uuid)
              AND seal_seq IS NULL AND hash IS NULL AND prev_hash IS NULL);
-- Cross-account writers (webhooks, system jobs) may add entries for any account, never read them back.
CREATE POLICY audit_worker_insert ON audit_log FOR INSERT TO tf_worker
  WITH CHECK (seal_seq IS NULL AND hash IS NULL AND prev_hash IS NULL);
CREATE POLICY audit_definer ON audit_log TO tf_owner USING (true);
GRANT SELECT, INSERT ON audit_log TO tf_app;
GRANT INSERT ON audit_log TO tf_worker;

-- The canonical content an entry's hash covers: every column a reader relies on, as JSON text
-- (jsonb's text form is deterministic), with the time in microseconds UTC.
CREATE FUNCTION audit_canonical(a audit_log) RETURNS text
  LANGUAGE sql IMMUTABLE
  AS $$
    SELECT jsonb_build_array(a.id, a.account_id,
             to_char(a.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
             a.actor_type, a.actor_id, a.impersonator_id, a.action, a.target_type, a.target_id,
             host(a.ip), a.user_agent, a.details)::text
  $$;

CREATE FUNCTION audit_entry_hash(p_prev text, a audit_log) RETURNS text
  LANGUAGE sql IMMUTABLE
  AS $$ SELECT encode(sha256(convert_to(p_prev || audit_canonical(a), 'UTF8')), 'hex') $$;

-- Nobody may change or remove an entry. The one permitted UPDATE is sealing: setting the chain
-- columns of a not-yet-sealed entry, content untouched, by the owner (the sealer function).
CREATE FUNCTION audit_log_guard() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
  BEGIN
    IF TG_OP = 'UPDATE' AND OLD.seal_seq IS NULL AND NEW.seal_seq IS NOT NULL
       AND current_user = 'tf_owner'
       AND audit_canonical(OLD) = audit_canonical(NEW) THEN
      RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
  END $$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_guard();
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_guard();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_guard();

-- Seals up to p_limit committed, unsealed entries into the chain. Returns how many it sealed;
-- 0 at once when another sealer holds the lock (instances share this work safely).
CREATE FUNCTION audit_seal(p_limit integer DEFAULT 1000) RETURNS integer
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
  DECLARE
    v_prev text;
    v_seq  bigint;
    v_n    integer := 0;
    r      audit_log;
  BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('tradersflow.audit_seal')) THEN
      RETURN 0;
    END IF;
    SELECT hash, seal_seq INTO v_prev, v_seq FROM audit_log WHERE seal_seq IS NOT NULL ORDER BY seal_seq DESC LIMIT 1;
    v_prev := coalesce(v_prev, repeat('0', 64));
    v_seq := coalesce(v_seq, 0);
    FOR r IN SELECT * FROM audit_log WHERE seal_seq IS NULL ORDER BY id LIMIT p_limit FOR UPDATE LOOP
      v_seq := v_seq + 1;
      UPDATE audit_log SET seal_seq = v_seq, prev_hash = v_prev, hash = audit_entry_hash(v_prev, r) WHERE id = r.id
        RETURNING hash INTO v_prev;
      v_n := v_n + 1;
    END LOOP;
    RETURN v_n;
  END $$;
GRANT EXECUTE ON FUNCTION audit_seal(integer) TO tf_app;

-- Recomputes the whole chain in seal order. first_broken_id names the first entry whose stored
-- hash, link to its predecessor, or content no longer matches.
CREATE FUNCTION audit_verify() RETURNS TABLE (ok boolean, checked bigint, first_broken_id bigint)
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
  DECLARE
    v_prev text := repeat('0', 64);
    v_seq  bigint := 0;
    v_n    bigint := 0;
    r      audit_log;
  BEGIN
    FOR r IN SELECT * FROM audit_log WHERE seal_seq IS NOT NULL ORDER BY seal_seq LOOP
      v_seq := v_seq + 1;
      v_n := v_n + 1;
      IF r.seal_seq <> v_seq OR r.prev_hash IS DISTINCT FROM v_prev OR r.hash IS DISTINCT FROM audit_entry_hash(v_prev, r) THEN
        RETURN QUERY SELECT false, v_n, r.id;
        RETURN;
      END IF;
      v_prev := r.hash;
    END LOOP;
    RETURN QUERY SELECT true, v_n, NULL::bigint;
  END $$;
GRANT EXECUTE ON FUNCTION audit_verify() TO tf_app;
