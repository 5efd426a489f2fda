-- The purge reduced what Stripe had sent about an account to each event's id and type, once.
-- Events arriving afterwards (account.updated from the tradesperson's connected account, which
-- lives on at Stripe; a late customer or invoice event) were stored with their whole payload and
-- kept for ever. The purge now remembers the account's Stripe ids, which identify nobody without
-- the rows it deleted, and an event about one of them is stored as id and type only, ignored.
-- The purge also refuses an account whose subscriptions retention has not cancelled (V022), and
-- deletes an account's invoices before their lines: the lines go with them by the foreign key's
-- ON DELETE CASCADE. Deleting the lines first made V015's rendering trigger lock and rewrite
-- every invoice one statement before deleting it.
SET LOCAL ROLE tf_owner;

CREATE TABLE stripe_purged_ids (
  stripe_id  text PRIMARY KEY CHECK (stripe_id ~ '^(cus|acct)_[A-Za-z0-9]+$'),
  purged_at  timestamptz NOT NULL DEFAULT now()
);
-- Read and written only by the definer functions below; no runtime role is granted anything.

CREATE OR REPLACE FUNCTION stripe_event_store(p_id text, p_type text, p_api_version text, p_connect_account text,
                                              p_livemode boolean, p_created timestamptz, p_payload jsonb) RETURNS boolean
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
  DECLARE
    v_purged boolean := EXISTS (SELECT 1 FROM stripe_purged_ids
                                 WHERE stripe_id IN (p_connect_account, p_payload #>> '{data,object,customer}',
                                                     p_payload #>> '{data,object,id}'));
  BEGIN
    IF v_purged THEN
      INSERT INTO stripe_events (id, type, api_version, connect_account, livemode, created, payload, status, processed_at)
      VALUES (p_id, p_type, p_api_version, NULL, p_livemode, p_created,
              jsonb_build_object('id', p_id, 'type', p_type, 'purged', true), 'ignored', now())
      ON CONFLICT (id) DO NOTHING;
    ELSE
      INSERT INTO stripe_events (id, type, api_version, connect_account, livemode, created, payload)
      VALUES (p_id, p_type, p_api_version, p_connect_account, p_livemode, p_created, p_payload)
      ON CONFLICT (id) DO NOTHING;
    END IF;
    RETURN FOUND;
  END $$;

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
    DELETE FROM sessions WHERE account_id = p_account;
    DELETE FROM users WHERE account_id = p_account;
    DELETE FROM billing_accounts WHERE account_id = p_account;
    UPDATE accounts SET business_name = 'deleted account', purged_at = now(), updated_at = now() WHERE id = p_account;
  END $$;
