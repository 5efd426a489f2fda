-- An invoice's insert no longer calls the reply trigger that has nothing to do for it.
--
-- zz_invoice_reply_pending (V029) fired before every insert and update of an invoice. Since V047
-- an insert keeps whatever reply it brings (only invoice_create and invoice_create_many bring
-- one: the runtime role may not write body_json, and without one the reply is pending as the
-- column's null), so for an insert the function only returned the row: a PL/pgSQL trigger call
-- for nothing on every invoice a batch of creations writes. It now fires before updates only, with
-- the same name (BEFORE triggers fire in name order, and it must still see what the others changed)
-- and the same function (V047's), whose insert branch is now never taken: an update is decided
-- as before. (V029's header still says an insert always leaves the reply
-- pending: true of V029, not since V047.)
SET LOCAL ROLE tf_owner;

-- Replaced in place (PostgreSQL 14+): SHARE ROW EXCLUSIVE on invoices, which holds writes back for
-- the moment it takes but not reads, where DROP TRIGGER would take ACCESS EXCLUSIVE.
CREATE OR REPLACE TRIGGER zz_invoice_reply_pending BEFORE UPDATE ON invoices
  FOR EACH ROW EXECUTE FUNCTION invoice_reply_pending();
