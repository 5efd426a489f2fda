-- Sign-in: refresh tokens (rotating, per session family), single-use email tokens, external
-- identities (Google/Apple, later), and the narrow SECURITY DEFINER lookups that must run
-- before a request knows its account (sign-in by email, refresh by token, links by token).
SET LOCAL ROLE tf_owner;

-- A closed account keeps its rows for 30 days (then a purge job deletes them); the audit log stays.
ALTER TABLE accounts ADD COLUMN closed_at timestamptz, ADD COLUMN delete_after timestamptz;

GRANT INSERT ON accounts TO tf_app;
GRANT UPDATE (status, closed_at, delete_after, updated_at) ON accounts TO tf_app;
GRANT UPDATE (email, email_verified_at, password_hash, updated_at) ON users TO tf_app;

-- A session is one sign-in (one "family"); its refresh tokens rotate. A spent token keeps its
-- successor, encrypted, for the reuse grace period, so two racing refreshes get the same answer.
CREATE TABLE refresh_tokens (
  id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id            uuid NOT NULL,
  session_id            uuid NOT NULL REFERENCES sessions(id),
  token_hash            bytea NOT NULL UNIQUE,
  created_at            timestamptz NOT NULL DEFAULT now(),
  expires_at            timestamptz NOT NULL,
  spent_at              timestamptz,
  successor_id          uuid,
  successor_sealed      bytea
);
CREATE INDEX refresh_tokens_account_session_idx ON refresh_tokens (account_id, session_id);

-- Single-use links mailed to users: email verification, password reset, email change.
CREATE TABLE auth_tokens (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id  uuid NOT NULL,
  user_id     uuid NOT NULL,
  purpose     text NOT NULL CHECK (purpose IN ('verify_email', 'password_reset', 'email_change')),
  token_hash  bytea NOT NULL UNIQUE,
  new_email   text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz,
  FOREIGN KEY (account_id, user_id) REFERENCES users (account_id, id)
);
CREATE INDEX auth_tokens_account_user_idx ON auth_tokens (account_id, user_id);

-- Sign-in with Google or Apple links a provider's subject to a user (built in a later issue).
CREATE TABLE user_identities (
  account_id  uuid NOT NULL,
  user_id     uuid NOT NULL,
  provider    text NOT NULL CHECK (provider IN ('google', 'apple')),
  subject     text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (provider, subject),
  FOREIGN KEY (account_id, user_id) REFERENCES users (account_id, id)
);
CREATE INDEX user_identities_account_idx ON user_identities (account_id, user_id);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['refresh_tokens', 'auth_tokens', 'user_identities'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($p$CREATE POLICY %I ON %I TO tf_app
                      USING (account_id = (SELECT nullif(current_setting('app.account_id', true), '')::uuid))
                      WITH CHECK (account_id = (SELECT nullif(current_setting('app.account_id', true), '')::uuid))$p$,
                   t || '_own', t);
    EXECUTE format('CREATE POLICY %I ON %I TO tf_owner USING (true)', t || '_definer', t);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE ON %I TO tf_app', t);
  END LOOP;
END $$;

-- Sign-in and password reset by email: only what deciding needs, for one address.
CREATE FUNCTION auth_user_by_email(p_email text)
  RETURNS TABLE (user_id uuid, account_id uuid, password_hash text, email_verified boolean, account_status text)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    SELECT u.id, u.account_id, u.password_hash, u.email_verified_at IS NOT NULL, a.status
      FROM users u JOIN accounts a ON a.id = u.account_id
     WHERE u.email = lower(btrim(p_email))
  $$;
GRANT EXECUTE ON FUNCTION auth_user_by_email(text) TO tf_app;

-- Refresh by token: which account and session a presented token belongs to, and its state.
CREATE FUNCTION auth_refresh_token(p_hash bytea)
  RETURNS TABLE (id uuid, account_id uuid, session_id uuid, user_id uuid, expires_at timestamptz,
                 spent_at timestamptz, successor_sealed bytea, session_live boolean, impersonator_id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    SELECT r.id, r.account_id, r.session_id, s.user_id, r.expires_at, r.spent_at, r.successor_sealed,
           s.revoked_at IS NULL AND s.expires_at > now(), s.impersonator_id
      FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id
     WHERE r.token_hash = p_hash
  $$;
GRANT EXECUTE ON FUNCTION auth_refresh_token(bytea) TO tf_app;

-- A mailed link's token: whose it is, for what, and whether it may still be used.
CREATE FUNCTION auth_link_token(p_hash bytea, p_purpose text)
  RETURNS TABLE (id uuid, account_id uuid, user_id uuid, new_email text, usable boolean)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    SELECT t.id, t.account_id, t.user_id, t.new_email, t.used_at IS NULL AND t.expires_at > now()
      FROM auth_tokens t
     WHERE t.token_hash = p_hash AND t.purpose = p_purpose
  $$;
GRANT EXECUTE ON FUNCTION auth_link_token(bytea, text) TO tf_app;
