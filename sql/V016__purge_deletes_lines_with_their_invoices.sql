-- The purge deleted an account's invoice_lines before its invoices. Since V015 every statement that
-- deletes lines re-renders their invoices, so the purge locked and rewrote each of the account's
-- invoices one statement before deleting them. The lines now go with their invoices through the
-- ON DELETE CASCADE of their foreign key; the rendering trigger then finds no invoice to rewrite.
-- Otherwise the function is V010's.
SET LOCAL ROLE tf_owner;

CREATE OR REPLACE FUNCTION retention_purge_account(p_account uuid)
  RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
  BEGIN
    IF NOT EXISTS (SELECT 1 FROM accounts WHERE id = p_account AND status = 'closed' AND delete_after <= now()) THEN
      RAISE EXCEPTION 'account % is not due for deletion', p_account;
    END IF;
    IF EXISTS (SELECT 1 FROM billing_accounts WHERE account_id = p_account
                AND subscription_id IS NOT NULL AND subscription_status <> 'cancelled') THEN
      RAISE EXCEPTION 'account % still has a live subscription', p_account;
    END IF;
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
    DELETE FROM sessions WHERE account_id = p_account;
    DELETE FROM users WHERE account_id = p_account;
    DELETE FROM billing_accounts WHERE account_id = p_account;
    UPDATE accounts SET business_name = 'deleted account', purged_at = now(), updated_at = now() WHERE id = p_account;
  END $$;
