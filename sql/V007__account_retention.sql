-- Closed accounts: their Stripe subscription is cancelled (retried until Stripe confirms) and,
-- 30 days after closing, their data is deleted. The account row stays as an anonymised
-- tombstone and the audit log stays whole. One instance at a time does this work
-- (advisory lock in the job), through these narrow SECURITY DEFINER functions only.
SET LOCAL ROLE tf_owner;

ALTER TABLE accounts ADD COLUMN purged_at timestamptz;
CREATE INDEX accounts_closed_idx ON accounts (delete_after) WHERE status = 'closed' AND purged_at IS NULL;

CREATE POLICY email_outbox_definer ON email_outbox TO tf_owner USING (true);
CREATE POLICY email_events_definer ON email_events TO tf_owner USING (true);
CREATE POLICY jobs_definer ON jobs TO tf_owner USING (true);
CREATE POLICY invoice_lines_definer ON invoice_lines TO tf_owner USING (true);
CREATE POLICY invoice_counters_definer ON invoice_counters TO tf_owner USING (true);

-- Closed accounts whose subscription Stripe still holds as live.
CREATE FUNCTION retention_subscriptions_to_cancel()
  RETURNS TABLE (account_id uuid, subscription_id text)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    SELECT b.account_id, b.subscription_id
      FROM billing_accounts b JOIN accounts a ON a.id = b.account_id
     WHERE a.status = 'closed' AND b.subscription_id IS NOT NULL AND b.subscription_status <> 'cancelled'
     LIMIT 100
  $$;

CREATE FUNCTION retention_subscription_cancelled(p_account uuid)
  RETURNS void
  LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    UPDATE billing_accounts SET subscription_status = 'cancelled', stripe_status = 'canceled', updated_at = now()
     WHERE account_id = p_account
  $$;

CREATE FUNCTION retention_accounts_due()
  RETURNS TABLE (account_id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    SELECT id FROM accounts WHERE status = 'closed' AND purged_at IS NULL AND delete_after <= now() LIMIT 100
  $$;

-- Deletes everything the account holds but its tombstone and its audit entries.
CREATE FUNCTION retention_purge_account(p_account uuid)
  RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
  BEGIN
    IF NOT EXISTS (SELECT 1 FROM accounts WHERE id = p_account AND status = 'closed' AND delete_after <= now()) THEN
      RAISE EXCEPTION 'account % is not due for deletion', p_account;
    END IF;
    DELETE FROM email_events WHERE message_id IN (SELECT id FROM email_outbox WHERE account_id = p_account);
    DELETE FROM email_outbox WHERE account_id = p_account;
    DELETE FROM invoice_payment_links WHERE account_id = p_account;
    DELETE FROM invoice_lines WHERE account_id = p_account;
    DELETE FROM invoices WHERE account_id = p_account;
    DELETE FROM invoice_counters WHERE account_id = p_account;
    DELETE FROM jobs WHERE account_id = p_account;
    DELETE FROM customers WHERE account_id = p_account;
    DELETE FROM refresh_tokens WHERE account_id = p_account;
    DELETE FROM auth_tokens WHERE account_id = p_account;
    DELETE FROM user_identities WHERE account_id = p_account;
    DELETE FROM sessions WHERE account_id = p_account;
    DELETE FROM users WHERE account_id = p_account;
    DELETE FROM billing_accounts WHERE account_id = p_account;
    UPDATE accounts SET business_name = 'deleted account', purged_at = now(), updated_at = now() WHERE id = p_account;
  END $$;

GRANT EXECUTE ON FUNCTION retention_subscriptions_to_cancel(), retention_subscription_cancelled(uuid),
  retention_accounts_due(), retention_purge_account(uuid) TO tf_app;
