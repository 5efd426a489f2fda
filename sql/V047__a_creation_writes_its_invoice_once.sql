-- A creation writes its invoice row once, lines and reply rendered, instead of three times.
--
-- A creation inserted the invoice with its reply pending (V029), inserted its lines, whose
-- statement trigger (V015) locked the invoice and rewrote it with lines_json, and then stored the
-- reply the server rendered from that row: three versions of a wide row, each with its seven
-- index entries when the update found no room on the page, a lock and two pending-reply checks at
-- commit. Driven by pgbench alone (load-tests/creation-anchor.sh, 64 clients on 8 accounts) that
-- transaction ran at 1,395 creations a second where the same rows written once ran at 2,396.
--
-- Now the server takes the number first and reads, with it, the lines rendered from its own input
-- (invoice_lines_json); it renders the reply from those and invoice_create writes the invoice,
-- lines_json, reply and lines in one statement. What stays true:
--  * lines_json is still written only by the database: invoice_create renders it from the very
--    arrays it inserts as lines, with the function the trigger renders with (invoice_line_json),
--    so the runtime role, which may not write the column, cannot make it say anything else;
--  * the lines' trigger still runs for every statement that changes invoice_lines. It leaves an
--    invoice alone only when this transaction wrote the row (so no other transaction can be
--    rendering it: the row is locked or not yet visible) and its lines_json already is what the
--    lines render to; any other invoice is locked and rendered as before;
--  * the reply: an insert that brings its reply keeps it (only invoice_create can: the runtime role
--    may not write body_json), any other insert leaves it pending as before, and a later change the
--    reply does not follow still leaves it pending and refuses the commit (V029). If invoice_create's
--    lines ever rendered differently from what the trigger renders, the trigger would rewrite
--    lines_json, the reply would go pending, and the commit would be refused, not stored wrong.
SET LOCAL ROLE tf_owner;

-- One line as the API writes it: {description, quantity, unitPence}, the quantity without
-- trailing zeros. Both renderings of lines use it, so they cannot drift apart.
CREATE FUNCTION invoice_line_json(p_description text, p_quantity numeric, p_unit_pence bigint) RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE
  RETURN format('{"description":%s,"quantity":%s,"unitPence":%s}', to_json(p_description), trim_scale(p_quantity),
                p_unit_pence);

CREATE OR REPLACE FUNCTION invoice_lines_render(p_account uuid, p_invoice uuid)
  RETURNS json
  LANGUAGE plpgsql STABLE SET search_path = public, pg_temp
  AS $$
  BEGIN
    -- An aggregate without GROUP BY: always exactly one row.
    RETURN (SELECT coalesce('[' || string_agg(invoice_line_json(l.description, l.quantity, l.unit_pence),
                                              ',' ORDER BY l.position) || ']', '[]')::json
              FROM invoice_lines l WHERE l.account_id = p_account AND l.invoice_id = p_invoice);
  END $$;

-- A creation's lines rendered from its input, as invoice_lines_render will render them once they
-- are stored: in input order, each quantity coerced as invoice_lines.quantity (numeric(12,2))
-- coerces it.
CREATE FUNCTION invoice_lines_json(p_descriptions text[], p_quantities text[], p_unit_pence bigint[]) RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE
  RETURN (SELECT coalesce('[' || string_agg(invoice_line_json(t.description, t.quantity::numeric(12, 2), t.unit_pence),
                                            ',' ORDER BY t.ord) || ']', '[]')
            FROM unnest(p_descriptions, p_quantities, p_unit_pence) WITH ORDINALITY
                 AS t(description, quantity, unit_pence, ord));

-- The invoice, numbered by the caller under the account's counter lock, with its lines and the
-- reply the server rendered, written once in the caller's account scope (app.account_id, as every
-- insert's account_id default takes it). SECURITY DEFINER only to write lines_json, which it
-- renders itself from p_descriptions, p_quantities and p_unit_pence, the lines it inserts. The
-- customer and job are the account's own by the foreign keys on (account_id, customer_id/job_id).
-- Answers the columns the server's Invoice record reads (Invoice.COLUMNS).
CREATE FUNCTION invoice_create(p_id uuid, p_number integer, p_customer uuid, p_job uuid, p_currency text,
                               p_due_date date, p_total_pence bigint, p_descriptions text[], p_quantities text[],
                               p_unit_pence bigint[], p_created_at timestamptz, p_body text)
  RETURNS TABLE (id uuid, number integer, status text, total_pence bigint, created_at timestamptz, body bytea)
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = public, pg_temp
  SET plan_cache_mode = force_generic_plan
  AS $$
  DECLARE
    scope uuid := app_account_id();
  BEGIN
    IF scope IS NULL THEN
      RAISE EXCEPTION 'invoice_create needs the account scope (app.account_id)'
        USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN QUERY
      WITH invoice AS (
        INSERT INTO invoices AS i (id, account_id, number, customer_id, job_id, currency, due_date, total_pence,
                                   lines_json, body_json, created_at, updated_at)
        VALUES (p_id, scope, p_number, p_customer, p_job, p_currency, p_due_date, p_total_pence,
                invoice_lines_json(p_descriptions, p_quantities, p_unit_pence)::json, p_body, p_created_at,
                p_created_at)
        RETURNING i.id, i.account_id, i.number, i.status, i.total_pence, i.created_at, i.body_json),
      lines AS (
        INSERT INTO invoice_lines (account_id, invoice_id, position, description, quantity, unit_pence)
        SELECT invoice.account_id, invoice.id, t.ord - 1, t.description, t.quantity::numeric, t.unit_pence
          FROM invoice, unnest(p_descriptions, p_quantities, p_unit_pence) WITH ORDINALITY
                        AS t(description, quantity, unit_pence, ord))
      SELECT invoice.id, invoice.number, invoice.status, invoice.total_pence, invoice.created_at,
             convert_to(invoice.body_json, 'UTF8')
        FROM invoice;
  END $$;

REVOKE ALL ON FUNCTION invoice_create(uuid, integer, uuid, uuid, text, date, bigint, text[], text[], bigint[],
                                      timestamptz, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION invoice_create(uuid, integer, uuid, uuid, text, date, bigint, text[], text[], bigint[],
                                         timestamptz, text) TO tf_app;
REVOKE ALL ON FUNCTION invoice_lines_json(text[], text[], bigint[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION invoice_lines_json(text[], text[], bigint[]) TO tf_app;
REVOKE ALL ON FUNCTION invoice_line_json(text, numeric, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION invoice_line_json(text, numeric, bigint) TO tf_app;

-- An insert keeps the reply it brings (invoice_create's); without one it is pending, as before.
CREATE OR REPLACE FUNCTION invoice_reply_pending() RETURNS trigger
  LANGUAGE plpgsql SET search_path = public, pg_temp
  AS $$
  BEGIN
    IF TG_OP = 'INSERT' THEN
      RETURN NEW;
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

CREATE OR REPLACE FUNCTION invoice_lines_rerender() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
  DECLARE
    touched uuid[] := '{}';
  BEGIN
    -- Each transition table exists only for the events that have it.
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
      touched := touched || ARRAY(SELECT invoice_id FROM changed_new);
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
      touched := touched || ARRAY(SELECT invoice_id FROM changed_old);
    END IF;
    -- Rendered already: a row this transaction wrote (no other transaction can be changing its
    -- lines meanwhile) whose lines_json is what its lines render to, as invoice_create leaves it.
    touched := ARRAY(SELECT i.id FROM invoices i
                      WHERE i.id = ANY (touched)
                        AND NOT (i.xmin = pg_current_xact_id()::xid
                                 AND i.lines_json::text = invoice_lines_render(i.account_id, i.id)::text));
    IF cardinality(touched) = 0 THEN
      RETURN NULL;
    END IF;
    -- Lock first, render in the next statement: its snapshot is taken once the lock is held, so
    -- it sees the lines of any transaction that rendered the same invoice before it. Rendering in
    -- the locking statement would read a snapshot from before the wait and drop their lines.
    PERFORM 1 FROM invoices WHERE id = ANY (touched) ORDER BY id FOR NO KEY UPDATE;
    -- An invoice being deleted (the cascade, or a purge) has no row left to update: it is skipped.
    UPDATE invoices SET lines_json = invoice_lines_render(account_id, id) WHERE id = ANY (touched);
    RETURN NULL;
  END $$;
