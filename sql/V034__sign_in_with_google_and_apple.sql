-- Sign in with Google and Apple (issue 19). V005 created user_identities, (provider, subject) ->
-- user, unique by its primary key: the same provider subject always signs into the same user,
-- whatever its email at the provider becomes. This adds what the identity shows its user (the
-- provider's latest address for it, whether that is an Apple private-relay address, when it was
-- last used), the one lookup a sign-in needs before it knows its account, and unlinking.
SET LOCAL ROLE tf_owner;

ALTER TABLE user_identities
  ADD COLUMN email            text CHECK (email IS NULL OR (email = lower(btrim(email)) AND length(email) BETWEEN 3 AND 254)),
  ADD COLUMN is_private_email boolean NOT NULL DEFAULT false,
  ADD COLUMN last_used_at     timestamptz NOT NULL DEFAULT now();

-- A request links an identity, refreshes what it shows at each sign-in, and unlinks it; it never
-- moves one to another user or another subject. (V005 granted table-wide INSERT and UPDATE.)
REVOKE INSERT, UPDATE ON user_identities FROM tf_app;
GRANT INSERT (account_id, user_id, provider, subject, email, is_private_email) ON user_identities TO tf_app;
GRANT UPDATE (email, is_private_email, last_used_at) ON user_identities TO tf_app;
GRANT DELETE ON user_identities TO tf_app;

-- Sign-in by ID token: whose identity a provider's subject is, and only what deciding needs. It
-- must run before the request knows its account, like auth_user_by_email.
CREATE FUNCTION auth_user_by_identity(p_provider text, p_subject text)
  RETURNS TABLE (user_id uuid, account_id uuid, email text, password_epoch integer, email_verified boolean,
                 account_status text)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    SELECT u.id, u.account_id, u.email, u.password_epoch, u.email_verified_at IS NOT NULL, a.status
      FROM user_identities i
      JOIN users u ON u.id = i.user_id
      JOIN accounts a ON a.id = u.account_id
     WHERE i.provider = p_provider AND i.subject = p_subject
  $$;
GRANT EXECUTE ON FUNCTION auth_user_by_identity(text, text) TO tf_app;
