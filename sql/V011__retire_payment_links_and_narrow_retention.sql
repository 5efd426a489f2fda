-- Fixes from the billing and retention reviews.
--
-- 1. A payment link stayed payable at Stripe after its invoice was edited, voided, paid or
--    deleted (and after the account itself was deleted): a customer holding an old email could
--    pay a stale amount, or pay twice. Every link that stops being the invoice's current way to
--    pay is now queued, in the same transaction as the change that superseded it, for
--    deactivation on the connected account; the billing job works the queue until Stripe
--    confirms. New links also accept a single completed payment (set by the server at creation).
-- 2. The retention functions (cancel, purge) were executable by tf_app, the role every request
--    runs as; they are now the worker's only.
-- 3. Purging an account left Stripe's event payloads about it (names, emails, addresses of the
--    tradesperson and their customers) in stripe_events; deleting the billing row now reduces
--    them to their id and type, which is all redelivery dedupe needs.
SET LOCAL ROLE tf_owner;

ALTER TABLE invoice_payment_links ADD COLUMN retired_at timestamptz;

-- Links to deactivate at Stripe. Not account data a request may see: only the worker reaches it,
-- and rows arrive only through the triggers below.
CREATE TABLE payment_link_retirements (
  payment_link_id     text PRIMARY KEY,
  account_id          uuid NOT NULL,
  connect_account_id  text NOT NULL,
  reason              text NOT NULL CHECK (reason IN ('superseded', 'paid', 'void', 'deleted')),
  attempts            integer NOT NULL DEFAULT 0,
  next_attempt_at     timestamptz NOT NULL DEFAULT now(),
  last_error          text CHECK (length(last_error) <= 1000),
  created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payment_link_retirements_due_idx ON payment_link_retirements (next_attempt_at);
ALTER TABLE payment_link_retirements ENABLE ROW LEVEL SECURITY;
ALTER TABLE payment_link_retirements FORCE ROW LEVEL SECURITY;
CREATE POLICY payment_link_retirements_worker ON payment_link_retirements TO tf_worker USING (true);
CREATE POLICY payment_link_retirements_definer ON payment_link_retirements TO tf_owner USING (true) WITH CHECK (true);
GRANT SELECT, DELETE, UPDATE (attempts, next_attempt_at, last_error) ON payment_link_retirements TO tf_worker;

-- Queues a link for deactivation and marks it retired; the link rows stay, so a late payment
-- event can still name its invoice.
CREATE FUNCTION payment_link_retire(p_account uuid, p_invoice uuid, p_below_version integer, p_reason text)
  RETURNS void
  LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    INSERT INTO payment_link_retirements (payment_link_id, account_id, connect_account_id, reason)
    SELECT l.payment_link_id, l.account_id, b.connect_account_id, p_reason
      FROM invoice_payment_links l JOIN billing_accounts b ON b.account_id = l.account_id
     WHERE l.account_id = p_account AND l.invoice_id = p_invoice AND l.retired_at IS NULL
       AND l.invoice_version < p_below_version AND b.connect_account_id IS NOT NULL
    ON CONFLICT (payment_link_id) DO NOTHING;
    UPDATE invoice_payment_links SET retired_at = now()
     WHERE account_id = p_account AND invoice_id = p_invoice AND retired_at IS NULL
       AND invoice_version < p_below_version;
  $$;

-- An invoice's new version retires its older links (and its paymentUrl, which showed one);
-- paying or voiding it retires them all.
CREATE FUNCTION invoice_retire_payment_links() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
  BEGIN
    IF NEW.status IN ('paid', 'void') AND NEW.status <> OLD.status THEN
      PERFORM payment_link_retire(NEW.account_id, NEW.id, 2147483647, NEW.status);
    ELSIF NEW.version > OLD.version THEN
      PERFORM payment_link_retire(NEW.account_id, NEW.id, NEW.version, 'superseded');
    END IF;
    IF NEW.version > OLD.version OR NEW.status = 'void' THEN
      NEW.payment_url := NULL;
    END IF;
    RETURN NEW;
  END $$;
CREATE TRIGGER invoices_retire_payment_links BEFORE UPDATE OF version, status ON invoices
  FOR EACH ROW WHEN (NEW.version <> OLD.version OR NEW.status <> OLD.status)
  EXECUTE FUNCTION invoice_retire_payment_links();

-- A link created for a version that an edit has meanwhile replaced (the Stripe call runs between
-- two transactions) is born retired. The row lock waits for a concurrent edit to commit and then
-- reads its version, and makes a later edit wait for this insert, so one side always sees the other.
-- NO KEY UPDATE, not SHARE: the saving transaction goes on to update the invoice (its paymentUrl),
-- and two saves of the same link (a double-clicked Send) each holding a share lock would deadlock.
CREATE FUNCTION payment_link_check_current() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
  DECLARE
    v_version integer;
    v_status text;
  BEGIN
    SELECT version, status INTO v_version, v_status FROM invoices
     WHERE account_id = NEW.account_id AND id = NEW.invoice_id FOR NO KEY UPDATE;
    IF v_version > NEW.invoice_version OR v_status IN ('paid', 'void') THEN
      INSERT INTO payment_link_retirements (payment_link_id, account_id, connect_account_id, reason)
      SELECT NEW.payment_link_id, NEW.account_id, b.connect_account_id,
             CASE WHEN v_status IN ('paid', 'void') THEN v_status ELSE 'superseded' END
        FROM billing_accounts b WHERE b.account_id = NEW.account_id AND b.connect_account_id IS NOT NULL
      ON CONFLICT (payment_link_id) DO NOTHING;
      NEW.retired_at := now();
    END IF;
    RETURN NEW;
  END $$;
CREATE TRIGGER invoice_payment_links_check_current BEFORE INSERT ON invoice_payment_links
  FOR EACH ROW EXECUTE FUNCTION payment_link_check_current();

-- A link deleted while live (its invoice deleted, or the account purged) is retired too.
CREATE FUNCTION payment_link_deleted() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
  BEGIN
    INSERT INTO payment_link_retirements (payment_link_id, account_id, connect_account_id, reason)
    SELECT OLD.payment_link_id, OLD.account_id, b.connect_account_id, 'deleted'
      FROM billing_accounts b WHERE b.account_id = OLD.account_id AND b.connect_account_id IS NOT NULL
    ON CONFLICT (payment_link_id) DO NOTHING;
    RETURN NULL;
  END $$;
CREATE TRIGGER invoice_payment_links_retire_on_delete AFTER DELETE ON invoice_payment_links
  FOR EACH ROW WHEN (OLD.retired_at IS NULL)
  EXECUTE FUNCTION payment_link_deleted();

-- The purge deletes the billing row last; what Stripe sent about the account goes with it.
CREATE INDEX stripe_events_account_idx ON stripe_events (account_id) WHERE account_id IS NOT NULL;
CREATE INDEX stripe_events_connect_idx ON stripe_events (connect_account) WHERE connect_account IS NOT NULL;
-- An event not yet handled is closed too: there is nothing left to apply it to. Events are found
-- by the account they were filed under, the connected account they came from, or the Stripe
-- customer they are about (one ignored as of no use, say, was never filed under the account).
-- The customer match reads every payload; it runs once per purged account, in the retention job.
CREATE FUNCTION stripe_events_forget(p_account uuid, p_connect_account text, p_customer text) RETURNS void
  LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    UPDATE stripe_events
       SET payload = jsonb_build_object('id', id, 'type', type, 'purged', true), last_error = NULL, lease_until = NULL,
           status = CASE WHEN status IN ('pending', 'processing', 'failed') THEN 'ignored' ELSE status END,
           processed_at = coalesce(processed_at, now())
     WHERE account_id = p_account
        OR (p_connect_account IS NOT NULL AND connect_account = p_connect_account)
        OR (p_customer IS NOT NULL AND p_customer IN (payload #>> '{data,object,customer}', payload #>> '{data,object,id}'));
  $$;

CREATE FUNCTION billing_account_forget_events() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
  BEGIN
    PERFORM stripe_events_forget(OLD.account_id, OLD.connect_account_id, OLD.stripe_customer_id);
    RETURN NULL;
  END $$;
CREATE TRIGGER billing_accounts_forget_events AFTER DELETE ON billing_accounts
  FOR EACH ROW EXECUTE FUNCTION billing_account_forget_events();

REVOKE EXECUTE ON FUNCTION retention_subscriptions_to_cancel(), retention_subscription_cancelled(uuid),
  retention_accounts_due(), retention_purge_account(uuid) FROM tf_app;
GRANT EXECUTE ON FUNCTION retention_subscriptions_to_cancel(), retention_subscription_cancelled(uuid),
  retention_accounts_due(), retention_purge_account(uuid) TO tf_worker;

-- What was already stale or purged before this migration gets the same treatment now.
WITH stale AS (
  UPDATE invoice_payment_links l SET retired_at = now()
    FROM invoices i
   WHERE i.account_id = l.account_id AND i.id = l.invoice_id AND l.retired_at IS NULL
     AND (l.invoice_version < i.version OR i.status IN ('paid', 'void'))
  RETURNING l.payment_link_id, l.account_id, i.status
)
INSERT INTO payment_link_retirements (payment_link_id, account_id, connect_account_id, reason)
SELECT s.payment_link_id, s.account_id, b.connect_account_id,
       CASE WHEN s.status IN ('paid', 'void') THEN s.status ELSE 'superseded' END
  FROM stale s JOIN billing_accounts b ON b.account_id = s.account_id
 WHERE b.connect_account_id IS NOT NULL
ON CONFLICT (payment_link_id) DO NOTHING;

SELECT stripe_events_forget(id, NULL, NULL) FROM accounts WHERE purged_at IS NOT NULL;
