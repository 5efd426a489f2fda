-- A payment that arrives for an invoice that is void, or already paid by another payment (a
-- customer paying a retired link before Stripe deactivated it, or paying twice), was recorded as
-- "invoice already paid" and nothing more: the money reached the tradesperson's connected account
-- and nobody was told a refund is due. The invoice now remembers the payment that paid it, so a
-- second notice of the same payment (Stripe sends checkout.session.completed and
-- payment_intent.succeeded for one) is told apart from a second payment, and the function says
-- which payments are unexpected; the handler audits them and raises an alert.
--
-- The five-argument form stays for instances of the previous version during a rolling deploy.
SET LOCAL ROLE tf_owner;

ALTER TABLE invoices ADD COLUMN paid_by text;  -- the Stripe payment (intent) that paid it; written only here

CREATE FUNCTION billing_mark_invoice_paid(p_invoice uuid, p_connect_account text, p_paid_at timestamptz,
                                          p_amount bigint, p_currency text, p_payment text)
  RETURNS TABLE (account_id uuid, first_time boolean, amount_matches boolean, invoice_number integer,
                 total_pence bigint, currency text, customer_name text, owner_email text, unexpected text)
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
  DECLARE
    v_inv invoices;
    v_first boolean := false;
    v_matches boolean;
    v_unexpected text;
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
      UPDATE invoices SET status = 'paid', paid_at = p_paid_at, paid_by = p_payment, updated_at = now() WHERE id = v_inv.id;
      v_first := true;
    ELSIF v_inv.status = 'void' AND v_inv.paid_at IS NULL THEN
      v_unexpected := 'void';
    ELSIF v_inv.paid_by IS NOT NULL AND p_payment IS NOT NULL AND v_inv.paid_by <> p_payment THEN
      v_unexpected := 'paid_twice';  -- invoices paid before this migration have no paid_by: not judged
    END IF;
    RETURN QUERY
      SELECT v_inv.account_id, v_first, v_matches, v_inv.number, v_inv.total_pence, v_inv.currency, c.name,
             (SELECT u.email FROM users u WHERE u.account_id = v_inv.account_id ORDER BY u.created_at, u.id LIMIT 1),
             v_unexpected
        FROM customers c WHERE c.account_id = v_inv.account_id AND c.id = v_inv.customer_id;
  END $$;
GRANT EXECUTE ON FUNCTION billing_mark_invoice_paid(uuid, text, timestamptz, bigint, text, text) TO tf_worker;
