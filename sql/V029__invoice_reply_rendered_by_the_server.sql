-- The invoice's stored reply (body_json, V025) is rendered by the server, in Java, at write time
-- (data/invoices/InvoiceReply), instead of by the PL/pgSQL trigger that re-implemented the API's
-- JSON and Instant.toString(): one renderer, in the language of the rest of the API, so a new
-- field is a Java change and a test. The read path does not change: a page is still one
-- statement returning the stored texts (invoice_page, V026).
--
-- What keeps the stored reply right without a rendering trigger:
-- * Any write that changes what the reply shows, and does not store a new reply with it, leaves
--   the reply pending (body_json NULL): an insert always does; so does a payment marked by
--   billing_mark_invoice_paid, or invoice_lines' re-rendering of lines_json (V015).
-- * The server renders the pending row in the same transaction, after its last write to it
--   (invoice_render_pending gives the columns, invoice_store_reply stores the text). Both
--   reach only rows pending in the calling transaction: every committed row has its reply, and
--   a row another transaction is changing shows its committed version, so they let no role
--   write another account's reply or overwrite a committed one.
-- * At commit, a row still pending refuses the commit: a change made behind the server's back
--   (hand-written SQL, an instance of the previous version) rolls back instead of leaving a
--   reply that says something else than the row. Change invoices through the server's
--   InvoiceService; in SQL, store the rendering in the same transaction.
--
-- Rolling deploy: instances of the previous version keep reading correctly throughout (every
-- committed row keeps a rendered reply, and the format is the same). Their writes of invoices
-- (and the Stripe payments their workers mark) are refused at commit from this migration until
-- they are replaced: nothing wrong is stored and nothing is lost (the client gets an error and
-- may retry, which a new instance serves; a Stripe payment event an old worker fails to apply
-- is stored as failed and retried with backoff, by a new instance's worker once there is one). Replace the old instances promptly. The migration takes only
-- brief locks (no row is rewritten): existing replies were rendered by V025 in the same format.
SET LOCAL ROLE tf_owner;

DROP TRIGGER zz_invoice_render ON invoices;
DROP FUNCTION invoice_render();
DROP FUNCTION json_instant(timestamptz);

ALTER TABLE invoices ALTER COLUMN body_json DROP NOT NULL;

-- "zz": BEFORE triggers fire in name order, and this one must see what the others changed
-- (invoices_retire_payment_links clears payment_url). json has no equality: compared as text.
CREATE FUNCTION invoice_reply_pending() RETURNS trigger
  LANGUAGE plpgsql SET search_path = public, pg_temp
  AS $$
  BEGIN
    IF TG_OP = 'INSERT' THEN
      NEW.body_json := NULL;
    ELSIF NEW.body_json IS NOT DISTINCT FROM OLD.body_json
      AND (NEW.id, NEW.number, NEW.customer_id, NEW.job_id, NEW.status, NEW.currency, NEW.lines_json::text,
           NEW.total_pence, NEW.due_date, NEW.payment_url, NEW.paid_at, NEW.created_at, NEW.updated_at)
          IS DISTINCT FROM
          (OLD.id, OLD.number, OLD.customer_id, OLD.job_id, OLD.status, OLD.currency, OLD.lines_json::text,
           OLD.total_pence, OLD.due_date, OLD.payment_url, OLD.paid_at, OLD.created_at, OLD.updated_at) THEN
      NEW.body_json := NULL;
    END IF;
    RETURN NEW;
  END $$;
CREATE TRIGGER zz_invoice_reply_pending BEFORE INSERT OR UPDATE ON invoices
  FOR EACH ROW EXECUTE FUNCTION invoice_reply_pending();

-- Checked at commit, against the row as it then is (the event was queued by an earlier write).
CREATE FUNCTION invoice_reply_rendered() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
  BEGIN
    IF EXISTS (SELECT 1 FROM invoices WHERE id = NEW.id AND body_json IS NULL) THEN
      RAISE EXCEPTION 'invoice % was changed without its reply rendered', NEW.id
        USING ERRCODE = 'integrity_constraint_violation',
              HINT = 'change invoices through the server (InvoiceService), which renders the reply in the same transaction';
    END IF;
    RETURN NULL;
  END $$;
CREATE CONSTRAINT TRIGGER invoices_reply_rendered AFTER INSERT OR UPDATE ON invoices
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW WHEN (NEW.body_json IS NULL) EXECUTE FUNCTION invoice_reply_rendered();

-- What the renderer reads, for one invoice (or, p_invoice NULL, every one: a scan, for tests
-- and maintenance; no index, whose build would hold writes back during the migration) pending
-- in this transaction. SECURITY DEFINER so the worker, which cannot read invoices, can render the
-- payment it marked.
CREATE FUNCTION invoice_render_pending(p_invoice uuid)
  RETURNS TABLE (id uuid, number integer, customer_id uuid, job_id uuid, status text, currency text, lines_json text,
                 total_pence bigint, due_date date, payment_url text, paid_at timestamptz, created_at timestamptz,
                 updated_at timestamptz)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    SELECT i.id, i.number, i.customer_id, i.job_id, i.status, i.currency, i.lines_json::text, i.total_pence, i.due_date,
           i.payment_url, i.paid_at, i.created_at, i.updated_at
      FROM invoices i
     WHERE (p_invoice IS NULL OR i.id = p_invoice) AND i.body_json IS NULL
  $$;

-- Stores a pending row's reply; answers what the server's Invoice record reads (Invoice.COLUMNS).
CREATE FUNCTION invoice_store_reply(p_invoice uuid, p_body text)
  RETURNS TABLE (id uuid, number integer, status text, total_pence bigint, created_at timestamptz, body_json text)
  LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    UPDATE invoices i SET body_json = p_body
     WHERE i.id = p_invoice AND i.body_json IS NULL
    RETURNING i.id, i.number, i.status, i.total_pence, i.created_at, i.body_json
  $$;

GRANT EXECUTE ON FUNCTION invoice_render_pending(uuid), invoice_store_reply(uuid, text) TO tf_app, tf_worker;
