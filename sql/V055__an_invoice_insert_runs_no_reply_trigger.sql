-- An invoice's insert no longer calls the reply trigger that has nothing to do for it.
--
-- zz_invoice_reply_pending (V029) fired before every insert and update of an invoice. Since V047
-- an insert keeps whatever reply it brings (only invoice_create and invoice_create_many bring
-- one: the runtime role may not write body_json, and without one the reply is pending as the
-- column's null), so for an insert the function only returned the row: a PL/pgSQL trigger call
-- for nothing on every invoice a batch of creations writes. It now fires before updates only, with
-- the same name (BEFORE triggers fire in name order, and it must still see what the others changed)
-- and the same decision for an update. (V029's header still says an insert always leaves the reply
-- pending: true of V029, not since V047.)
SET LOCAL ROLE tf_owner;

CREATE OR REPLACE FUNCTION invoice_reply_pending() RETURNS trigger
  LANGUAGE plpgsql SET search_path = public, pg_temp
  AS $$
  BEGIN
    -- A change the reply does not follow leaves it pending (the commit is then refused, V029).
    IF NEW.body_json IS NOT DISTINCT FROM OLD.body_json
      AND (NEW.id, NEW.number, NEW.customer_id, NEW.job_id, NEW.status, NEW.currency, NEW.lines_json::text,
           NEW.total_pence, NEW.due_date, NEW.payment_url, NEW.paid_at, NEW.created_at, NEW.updated_at)
          IS DISTINCT FROM
          (OLD.id, OLD.number, OLD.customer_id, OLD.job_id, OLD.status, OLD.currency, OLD.lines_json::text,
           OLD.total_pence, OLD.due_date, OLD.payment_url, OLD.paid_at, OLD.created_at, OLD.updated_at) THEN
      NEW.body_json := NULL;
    END IF;
    RETURN NEW;
  END $$;

-- Replaced in place (PostgreSQL 14+): SHARE ROW EXCLUSIVE on invoices, which holds writes back for
-- the moment it takes but not reads, where DROP TRIGGER would take ACCESS EXCLUSIVE.
CREATE OR REPLACE TRIGGER zz_invoice_reply_pending BEFORE UPDATE ON invoices
  FOR EACH ROW EXECUTE FUNCTION invoice_reply_pending();
