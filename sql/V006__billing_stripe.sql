-- Billing: the Stripe references an account has (customer, subscription, connected account) and
-- their high-level statuses, and the log of every verified Stripe webhook event. No card data,
-- no amounts owed: Stripe holds those. Webhook effects cross accounts, so they run as tf_worker,
-- which gets exactly the reach below, or through SECURITY DEFINER functions for invoices.
SET LOCAL ROLE tf_owner;

CREATE TABLE billing_accounts (
  account_id             uuid PRIMARY KEY DEFAULT app_account_id() REFERENCES accounts(id),
  stripe_customer_id     text UNIQUE CHECK (stripe_customer_id ~ '^cus_[A-Za-z0-9]+$'),
  subscription_id        text UNIQUE CHECK (subscription_id ~ '^sub_[A-Za-z0-9]+$'),
  subscription_status    text NOT NULL DEFAULT 'none'
                         CHECK (subscription_status IN ('none', 'trialing', 'active', 'past_due', 'cancelled')),
  stripe_status          text,
  trial_end              timestamptz,
  current_period_end     timestamptz,
  cancel_at_period_end   boolean NOT NULL DEFAULT false,
  connect_account_id     text UNIQUE CHECK (connect_account_id ~ '^acct_[A-Za-z0-9]+$'),
  charges_enabled        boolean NOT NULL DEFAULT false,
  payouts_enabled        boolean NOT NULL DEFAULT false,
  details_submitted      boolean NOT NULL DEFAULT false,
  created_at             timestamptz NOT NULL DEFAULT now(),
  updated_at             timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE billing_accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE billing_accounts FORCE ROW LEVEL SECURITY;
CREATE POLICY billing_accounts_own ON billing_accounts TO tf_app
  USING (account_id = (SELECT nullif(current_setting('app.account_id', true), '')::uuid))
  WITH CHECK (account_id = (SELECT nullif(current_setting('app.account_id', true), '')::uuid));
-- Webhooks find the account by its Stripe ids and update its statuses; they never create or delete rows.
CREATE POLICY billing_accounts_worker ON billing_accounts TO tf_worker USING (true);
CREATE POLICY billing_accounts_definer ON billing_accounts TO tf_owner USING (true);
GRANT SELECT, INSERT, UPDATE ON billing_accounts TO tf_app;
GRANT SELECT, UPDATE (subscription_id, subscription_status, stripe_status, trial_end, current_period_end,
                      cancel_at_period_end, charges_enabled, payouts_enabled, details_submitted, updated_at)
  ON billing_accounts TO tf_worker;

-- The payment link made for each invoice on the connected account, so a checkout completed on
-- that link can be traced back to its invoice even without metadata.
CREATE TABLE invoice_payment_links (
  account_id       uuid NOT NULL DEFAULT app_account_id() REFERENCES accounts(id),
  invoice_id       uuid NOT NULL,
  invoice_version  integer NOT NULL,
  payment_link_id  text NOT NULL UNIQUE,
  url              text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, invoice_id, invoice_version),
  FOREIGN KEY (account_id, invoice_id) REFERENCES invoices (account_id, id) ON DELETE CASCADE
);
ALTER TABLE invoice_payment_links ENABLE ROW LEVEL SECURITY;
ALTER TABLE invoice_payment_links FORCE ROW LEVEL SECURITY;
CREATE POLICY invoice_payment_links_own ON invoice_payment_links TO tf_app
  USING (account_id = (SELECT nullif(current_setting('app.account_id', true), '')::uuid))
  WITH CHECK (account_id = (SELECT nullif(current_setting('app.account_id', true), '')::uuid));
CREATE POLICY invoice_payment_links_definer ON invoice_payment_links TO tf_owner USING (true);
GRANT SELECT, INSERT ON invoice_payment_links TO tf_app;

-- Every verified Stripe event, once by its id. The unique key is what makes a redelivery, or many
-- concurrent deliveries across instances, apply once: only the inserter, then only the holder of
-- a status claim (pending/failed -> processing with a lease), handles it.
CREATE TABLE stripe_events (
  id               text PRIMARY KEY CHECK (id ~ '^evt_[A-Za-z0-9_]+$'),
  type             text NOT NULL CHECK (length(type) <= 100),
  api_version      text,
  connect_account  text,
  account_id       uuid,
  livemode         boolean NOT NULL DEFAULT false,
  created          timestamptz NOT NULL,
  received_at      timestamptz NOT NULL DEFAULT now(),
  status           text NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'processing', 'processed', 'ignored', 'failed')),
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  lease_until      timestamptz,
  last_error       text CHECK (length(last_error) <= 1000),
  processed_at     timestamptz,
  payload          jsonb NOT NULL
);
CREATE INDEX stripe_events_due_idx ON stripe_events (next_attempt_at) WHERE status IN ('pending', 'processing', 'failed');
CREATE INDEX stripe_events_status_idx ON stripe_events (status, received_at DESC, id);
ALTER TABLE stripe_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE stripe_events FORCE ROW LEVEL SECURITY;
-- Not any one account's data: only the worker role (webhook verticle, owners' replay) reaches it.
CREATE POLICY stripe_events_worker ON stripe_events TO tf_worker USING (true) WITH CHECK (true);
GRANT SELECT, INSERT, UPDATE ON stripe_events TO tf_worker;
CREATE POLICY stripe_events_definer ON stripe_events TO tf_owner USING (true) WITH CHECK (true);

-- The webhook hot path: store a verified event in one statement (one round trip, autocommit)
-- instead of BEGIN / SET ROLE / INSERT / COMMIT. Returns false for a redelivery. It can only
-- insert a new row; it cannot read or change any other.
CREATE FUNCTION stripe_event_store(p_id text, p_type text, p_api_version text, p_connect_account text,
                                   p_livemode boolean, p_created timestamptz, p_payload jsonb) RETURNS boolean
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
  BEGIN
    INSERT INTO stripe_events (id, type, api_version, connect_account, livemode, created, payload)
    VALUES (p_id, p_type, p_api_version, p_connect_account, p_livemode, p_created, p_payload)
    ON CONFLICT (id) DO NOTHING;
    RETURN FOUND;
  END $$;
GRANT EXECUTE ON FUNCTION stripe_event_store(text, text, text, text, boolean, timestamptz, jsonb) TO tf_app;

-- Invoice payments arrive from connected accounts. Rather than let the worker read or write any
-- invoice, one function marks the named invoice paid, and only when the paying connected account
-- is the one linked to the invoice's own account. It returns what the notice and audit need,
-- and first_time = false when the invoice was already paid (so effects happen once).
CREATE POLICY invoices_definer ON invoices TO tf_owner USING (true);
CREATE POLICY customers_definer ON customers TO tf_owner USING (true);

CREATE FUNCTION billing_mark_invoice_paid(p_invoice uuid, p_connect_account text, p_paid_at timestamptz)
  RETURNS TABLE (account_id uuid, first_time boolean, invoice_number integer, total_pence bigint,
                 currency text, customer_name text, owner_email text)
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
  DECLARE
    v_inv invoices;
    v_first boolean := false;
  BEGIN
    SELECT i.* INTO v_inv FROM invoices i
      JOIN billing_accounts b ON b.account_id = i.account_id AND b.connect_account_id = p_connect_account
     WHERE i.id = p_invoice
     FOR UPDATE OF i;
    IF NOT FOUND THEN
      RETURN;
    END IF;
    IF v_inv.paid_at IS NULL AND v_inv.status <> 'void' THEN
      UPDATE invoices SET status = 'paid', paid_at = p_paid_at, updated_at = now() WHERE id = v_inv.id;
      v_first := true;
    END IF;
    RETURN QUERY
      SELECT v_inv.account_id, v_first, v_inv.number, v_inv.total_pence, v_inv.currency, c.name,
             (SELECT u.email FROM users u WHERE u.account_id = v_inv.account_id ORDER BY u.created_at, u.id LIMIT 1)
        FROM customers c WHERE c.account_id = v_inv.account_id AND c.id = v_inv.customer_id;
  END $$;
GRANT EXECUTE ON FUNCTION billing_mark_invoice_paid(uuid, text, timestamptz) TO tf_worker;

-- The invoice a payment link belongs to (for checkout sessions that carry no metadata).
CREATE FUNCTION billing_invoice_for_payment_link(p_link text) RETURNS uuid
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$ SELECT invoice_id FROM invoice_payment_links WHERE payment_link_id = p_link $$;
GRANT EXECUTE ON FUNCTION billing_invoice_for_payment_link(text) TO tf_worker;

-- Where the account's billing emails go: its first user (the one who signed up).
CREATE FUNCTION billing_account_email(p_account uuid) RETURNS text
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$ SELECT email FROM users WHERE account_id = p_account ORDER BY created_at, id LIMIT 1 $$;
GRANT EXECUTE ON FUNCTION billing_account_email(uuid) TO tf_worker;
