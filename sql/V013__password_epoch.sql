-- Device tokens are bound to the user's password: a change or a reset must retire them, while
-- rehashing the same password with new Argon2 parameters (at sign-in) must not. The hash text
-- changes in both cases, so tokens are bound to this counter instead, which only a new password
-- moves (SignInRepository.setPassword; the rehash path writes the hash alone).
SET LOCAL ROLE tf_owner;

ALTER TABLE users ADD COLUMN password_epoch integer NOT NULL DEFAULT 0;
GRANT UPDATE (password_epoch) ON users TO tf_app;

DROP FUNCTION auth_user_by_email(text);
CREATE FUNCTION auth_user_by_email(p_email text)
  RETURNS TABLE (user_id uuid, account_id uuid, password_hash text, password_epoch integer, email_verified boolean,
                 account_status text)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    SELECT u.id, u.account_id, u.password_hash, u.password_epoch, u.email_verified_at IS NOT NULL, a.status
      FROM users u JOIN accounts a ON a.id = u.account_id
     WHERE u.email = lower(btrim(p_email))
  $$;
GRANT EXECUTE ON FUNCTION auth_user_by_email(text) TO tf_app;
