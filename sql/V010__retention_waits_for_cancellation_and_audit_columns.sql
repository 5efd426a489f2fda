-- Fixes from a security review of the retention and audit SQL.
--
-- 1. An account's data (its billing row included) was deleted on day 30 even when Stripe had not
--    yet confirmed its subscription cancelled (Stripe down that day, or not configured): with the
--    row gone nothing would ever retry the cancel, and the customer would go on being charged.
--    Now an account is due only once its subscription is cancelled, and the purge refuses otherwise.
--    The purge also deletes the account's documents and storage_garbage rows (V008); the job
--    deletes the account's blob folder first, so a crash in between leaves rows to retry with,
--    never keys without bytes to find.
-- 2. retention_subscription_cancelled marked any account's subscription cancelled; now only a
--    closed account's.
-- 3. A payment from an invoice's connected account marked it paid whatever the amount: paying an
--    older, cheaper version's link settled the edited invoice in full. The amount and currency
--    paid are now compared with the invoice's; a short or foreign-currency payment is reported,
--    not applied.
-- 4. The runtime roles could INSERT every audit_log column, so OVERRIDING SYSTEM VALUE let them
--    choose an entry's id (colliding with the identity, blocking every later audited action) and
--    its occurred_at (back-dating). They may now write only the columns an entry is made of.
SET LOCAL ROLE tf_owner;

CREATE OR REPLACE FUNCTION retention_accounts_due()
  RETURNS TABLE (account_id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    SELECT a.id FROM accounts a
     WHERE a.status = 'closed' AND a.purged_at IS NULL AND a.delete_after <= now()
       AND NOT EXISTS (SELECT 1 FROM billing_accounts b WHERE b.account_id = a.id
                        AND b.subscription_id IS NOT NULL AND b.subscription_status <> 'cancelled')
     LIMIT 100
  $$;

CREATE OR REPLACE FUNCTION retention_subscription_cancelled(p_account uuid)
  RETURNS void
  LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    UPDATE billing_accounts SET subscription_status = 'cancelled', stripe_status = 'canceled', updated_at = now()
     WHERE account_id = p_account
       AND EXISTS (SELECT 1 FROM accounts WHERE id = p_account AND status = 'closed')
  $$;

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

DROP FUNCTION billing_mark_invoice_paid(uuid, text, timestamptz);
CREATE FUNCTION billing_mark_invoice_paid(p_invoice uuid, p_connect_account text, p_paid_at timestamptz,
                                          p_amount bigint, p_currency text)
  RETURNS TABLE (account_id uuid, first_time boolean, amount_matches boolean, invoice_number integer,
                 total_pence bigint, currency text, customer_name text, owner_email text)
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
  DECLARE
    v_inv invoices;
    v_first boolean := false;
    v_matches boolean;
  BEGIN
    SELECT i.* INTO v_inv FROM invoices i
      JOIN billing_accounts b ON b.account_id = i.account_id AND b.connect_account_id = p_connect_account
     WHERE i.id = p_invoice
     FOR UPDATE OF i;
    IF NOT FOUND THEN
      RETURN;
    END IF;
    v_matches := p_amount IS NOT NULL AND p_amount >= v_inv.total_pence AND upper(p_currency) = v_inv.currency;
    IF v_matches AND v_inv.paid_at IS NULL AND v_inv.status <> 'void' THEN
      UPDATE invoices SET status = 'paid', paid_at = p_paid_at, updated_at = now() WHERE id = v_inv.id;
      v_first := true;
    END IF;
    RETURN QUERY
      SELECT v_inv.account_id, v_first, v_matches, v_inv.number, v_inv.total_pence, v_inv.currency, c.name,
             (SELECT u.email FROM users u WHERE u.account_id = v_inv.account_id ORDER BY u.created_at, u.id LIMIT 1)
        FROM customers c WHERE c.account_id = v_inv.account_id AND c.id = v_inv.customer_id;
  END $$;
GRANT EXECUTE ON FUNCTION billing_mark_invoice_paid(uuid, text, timestamptz, bigint, text) TO tf_worker;

REVOKE INSERT ON audit_log FROM tf_app, tf_worker;
GRANT INSERT (account_id, actor_type, actor_id, impersonator_id, action, target_type, target_id, ip, user_agent, details)
  ON audit_log TO tf_app, tf_worker;
