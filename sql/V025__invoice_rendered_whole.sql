-- Each invoice carries its whole reply, already rendered as the API's JSON object (body_json),
-- as V015 made it carry its lines. A page of invoices is then 20 stored texts joined by commas:
-- writing the page's JSON was the server's largest cost per request (about 30% of its CPU under
-- the invoice-list load), and PostgreSQL sends one stored text per row instead of 14 columns.
--
-- The rendering is the one the server wrote before, field for field: the contract's field
-- order, UUIDs in lower case, INV- numbers of at least four digits, dates as yyyy-mm-dd, and
-- instants as Java's Instant.toString() writes them (UTC, the fraction in groups of three
-- digits, none when it is zero) for years 1 to 9999, the only ones the server stores (it
-- accepts due dates from 1900 to 9999 and stamps the rest with now()). A trigger renders every row on every insert and update,
-- whoever writes it (a request, a webhook, the retirement of a payment link, or V015's re-render
-- of the lines), and tf_app cannot write the column itself.
SET LOCAL ROLE tf_owner;

CREATE FUNCTION json_instant(p timestamptz) RETURNS text
  LANGUAGE sql STABLE
  AS $$
    SELECT CASE
      WHEN p IS NULL THEN 'null'
      ELSE '"' || to_char(p AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
           || CASE WHEN to_char(p, 'US') = '000000' THEN ''
                   WHEN right(to_char(p, 'US'), 3) = '000' THEN '.' || left(to_char(p, 'US'), 3)
                   ELSE '.' || to_char(p, 'US') END
           || 'Z"'
    END
  $$;

CREATE FUNCTION invoice_render() RETURNS trigger
  LANGUAGE plpgsql SET search_path = public, pg_temp
  AS $$
  BEGIN
    NEW.body_json := '{"id":"' || NEW.id
      || '","number":"INV-' || CASE WHEN NEW.number <= 9999 THEN lpad(NEW.number::text, 4, '0') ELSE NEW.number::text END
      || '","customerId":"' || NEW.customer_id
      || '","jobId":' || coalesce('"' || NEW.job_id || '"', 'null')
      || ',"status":' || to_json(NEW.status)
      || ',"currency":' || to_json(NEW.currency)
      || ',"lines":' || NEW.lines_json
      || ',"totalPence":' || NEW.total_pence
      || ',"dueDate":' || coalesce('"' || to_char(NEW.due_date, 'YYYY-MM-DD') || '"', 'null')
      || ',"paymentUrl":' || coalesce(to_json(NEW.payment_url)::text, 'null')
      || ',"paidAt":' || json_instant(NEW.paid_at)
      || ',"createdAt":' || json_instant(NEW.created_at)
      || ',"updatedAt":' || json_instant(NEW.updated_at)
      || '}';
    RETURN NEW;
  END $$;

-- The trigger runs as whoever writes the row.
GRANT EXECUTE ON FUNCTION json_instant(timestamptz) TO tf_app, tf_worker;

ALTER TABLE invoices ADD COLUMN body_json text;

-- "zz": BEFORE triggers fire in name order, and this one must see what the others changed.
CREATE TRIGGER zz_invoice_render BEFORE INSERT OR UPDATE ON invoices
  FOR EACH ROW EXECUTE FUNCTION invoice_render();

UPDATE invoices SET body_json = NULL;
ALTER TABLE invoices ALTER COLUMN body_json SET NOT NULL;
