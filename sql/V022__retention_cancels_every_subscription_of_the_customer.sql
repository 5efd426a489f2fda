-- Closing an account cancelled the one subscription the billing row tracked. A customer can hold
-- another (a second checkout completed before the first one's webhook arrived, or one whose
-- webhooks never came), and an account that never got a tracked subscription was purged without
-- asking Stripe at all: such a subscription went on charging after the account was deleted.
-- Now every closed account with a Stripe customer is due for cancellation until the retention
-- job has cancelled all of that customer's live subscriptions at Stripe, and only then is it due
-- for the purge. That is recorded in a column of its own: subscription_status says what the tracked
-- subscription is (the customer may have cancelled it in the portal while another stays live).
-- retention_subscriptions_to_cancel() stays for the previous version during a rolling deploy.
SET LOCAL ROLE tf_owner;

-- Not backfilled: every account closed before this migration gets one look at Stripe.
ALTER TABLE billing_accounts ADD COLUMN retention_cancelled_at timestamptz;

CREATE FUNCTION retention_customers_to_cancel()
  RETURNS TABLE (account_id uuid, stripe_customer_id text, subscription_id text)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    SELECT b.account_id, b.stripe_customer_id, b.subscription_id
      FROM billing_accounts b JOIN accounts a ON a.id = b.account_id
     WHERE a.status = 'closed' AND b.retention_cancelled_at IS NULL
       AND (b.stripe_customer_id IS NOT NULL OR b.subscription_id IS NOT NULL)
     LIMIT 100
  $$;
GRANT EXECUTE ON FUNCTION retention_customers_to_cancel() TO tf_worker;

CREATE OR REPLACE FUNCTION retention_subscription_cancelled(p_account uuid)
  RETURNS void
  LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    UPDATE billing_accounts SET subscription_status = 'cancelled', stripe_status = 'canceled',
                                retention_cancelled_at = now(), updated_at = now()
     WHERE account_id = p_account
       AND EXISTS (SELECT 1 FROM accounts WHERE id = p_account AND status = 'closed')
  $$;

CREATE OR REPLACE FUNCTION retention_accounts_due()
  RETURNS TABLE (account_id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    SELECT a.id FROM accounts a
     WHERE a.status = 'closed' AND a.purged_at IS NULL AND a.delete_after <= now()
       AND NOT EXISTS (SELECT 1 FROM billing_accounts b WHERE b.account_id = a.id
                        AND (b.stripe_customer_id IS NOT NULL OR b.subscription_id IS NOT NULL)
                        AND b.retention_cancelled_at IS NULL)
     LIMIT 100
  $$;

-- retention_purge_account() waits for retention_cancelled_at too: it is redefined once, in V023.
