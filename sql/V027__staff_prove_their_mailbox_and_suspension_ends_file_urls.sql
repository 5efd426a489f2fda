-- Two rules of issue 23, both about who may still act once trust in a session is gone.
SET LOCAL ROLE tf_owner;

-- A staff address (TF_OWNER_EMAILS, TF_SUPPORT_EMAILS) opens the admin area only once its user
-- has set the password through an emailed reset link: signing up with someone else's address
-- and having them click the unsolicited verification mail must not hand the squatter the admin
-- area. When the user last did so; cleared when the address changes (the proof was for the old
-- one). The admin gate also refuses sessions opened before it (admin/OwnerGuard).
ALTER TABLE users ADD COLUMN password_set_by_reset_at timestamptz;
GRANT UPDATE (password_set_by_reset_at) ON users TO tf_app;

-- Suspending (or closing) an account ends its users' sessions, so it ends their signed file
-- URLs too: the epoch moves whenever the status leaves 'active', so reinstating the account
-- does not bring URLs minted before the suspension back to life. A trigger, so every way the
-- status changes (admin action, retention, a hand-run UPDATE) keeps the rule.
CREATE FUNCTION accounts_leaving_active_end_file_urls() RETURNS trigger
  LANGUAGE plpgsql SET search_path = public, pg_temp
  AS $$
  BEGIN
    IF NEW.status IS DISTINCT FROM OLD.status AND NEW.status <> 'active' THEN
      NEW.file_url_epoch := OLD.file_url_epoch + 1;
    END IF;
    RETURN NEW;
  END
  $$;
CREATE TRIGGER accounts_leaving_active_end_file_urls BEFORE UPDATE OF status ON accounts
  FOR EACH ROW EXECUTE FUNCTION accounts_leaving_active_end_file_urls();
