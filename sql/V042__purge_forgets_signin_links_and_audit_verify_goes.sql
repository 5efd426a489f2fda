-- Two things the admin area (V030-V036) left behind, found in the read-through of it.
--
-- audit_verify() (V001) walked the whole chain in one call and was still executable by the runtime
-- role: any request's transaction could make PostgreSQL hash every entry of every account, and learn
-- how many there are. Verification runs in pages as the worker since V033 (AuditChain), so the
-- function has no caller left and goes.
--
-- The purge of a closed account (retention_purge_account, V023) did not know signin_links (V032):
-- a support sign-in link made for the account outlived it, naming its user and the staff member.
-- It goes with the account's sessions now. AccountRetentionTest checks every table with an
-- account_id column, so a table added later cannot be missed the same way.
SET LOCAL ROLE tf_owner;

DROP FUNCTION audit_verify();

CREATE OR REPLACE FUNCTION retention_purge_account(p_account uuid)
  RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
  BEGIN
    IF NOT EXISTS (SELECT 1 FROM accounts WHERE id = p_account AND status = 'closed' AND delete_after <= now()) THEN
      RAISE EXCEPTION 'account % is not due for deletion', p_account;
    END IF;
    IF EXISTS (SELECT 1 FROM billing_accounts WHERE account_id = p_account
                AND (stripe_customer_id IS NOT NULL OR subscription_id IS NOT NULL)
                AND retention_cancelled_at IS NULL) THEN
      RAISE EXCEPTION 'account % may still have a live subscription', p_account;
    END IF;
    INSERT INTO stripe_purged_ids (stripe_id)
    SELECT id FROM billing_accounts b, unnest(ARRAY[b.stripe_customer_id, b.connect_account_id]) AS id
     WHERE b.account_id = p_account AND id IS NOT NULL
    ON CONFLICT DO NOTHING;
    DELETE FROM documents WHERE account_id = p_account;
    DELETE FROM storage_garbage WHERE account_id = p_account;
    DELETE FROM email_events WHERE message_id IN (SELECT id FROM email_outbox WHERE account_id = p_account);
    DELETE FROM email_outbox WHERE account_id = p_account;
    DELETE FROM invoice_payment_links WHERE account_id = p_account;
    DELETE FROM invoices WHERE account_id = p_account;  -- and, by cascade, their invoice_lines
    DELETE FROM invoice_counters WHERE account_id = p_account;
    DELETE FROM jobs WHERE account_id = p_account;
    DELETE FROM customers WHERE account_id = p_account;
    DELETE FROM refresh_tokens WHERE account_id = p_account;
    DELETE FROM auth_tokens WHERE account_id = p_account;
    DELETE FROM user_identities WHERE account_id = p_account;
    DELETE FROM signin_links WHERE account_id = p_account;
    DELETE FROM sessions WHERE account_id = p_account;
    DELETE FROM users WHERE account_id = p_account;
    DELETE FROM billing_accounts WHERE account_id = p_account;
    UPDATE accounts SET business_name = 'deleted account', purged_at = now(), updated_at = now() WHERE id = p_account;
  END $$;
