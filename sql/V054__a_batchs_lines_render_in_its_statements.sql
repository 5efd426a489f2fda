-- A batch of creations renders its lines inside its statements, not by a function call per invoice.
--
-- Each creation's lines were rendered three times through a function with a query of its own:
-- invoice_lines_json in the numbers' statement (for the reply the server renders) and again in
-- invoice_create_many (for lines_json), and invoice_lines_render in the lines' trigger, which
-- checks every invoice against its stored lines. Each call is a PL/pgSQL call, an SPI execution
-- and an executor start-up for a query over three lines; a CPU profile of PostgreSQL under
-- CreateInvoiceSimulation put executor start-up at an eighth of its samples, most of it these
-- calls and the foreign-key checks. Now each of the three renders its lines in the statement it
-- already runs: an aggregate grouped by creation in the two functions (invoice_number_all, V053,
-- was written so from the start), a correlated subquery per invoice in the trigger (a rescan, not
-- a new executor). Driven by pgbench alone (creation-anchor.sh, BATCH=4: at 64 writers on 8
-- accounts the server's batches hold up to 8, 4.2 on average by pg_stat_statements; 64 clients,
-- alternating on one database, with the numbers' function rendering through invoice_lines_json
-- before and inline after): 2,292 and 2,314 creations a second before, 2,541 and 2,670 after.
--
-- The text is the same, from the same parts: each line by invoice_line_json (V047), the quantity
-- coerced as invoice_lines.quantity coerces it, joined by commas in the lines' order, and wrapped
-- by invoice_lines_wrap (V053), all inlined by the planner. invoice_lines_json and
-- invoice_lines_render render the same way and stay: the previous release's instances call
-- invoice_lines_json from their own numbers' statement and through invoice_create during a
-- rolling upgrade, and the trigger rewrites an invoice whose lines changed with
-- invoice_lines_render. The trigger's check is unchanged in what it decides: a row this
-- transaction wrote whose lines_json is what its stored lines render to is left alone, any other
-- is locked and rendered again.
SET LOCAL ROLE tf_owner;

CREATE OR REPLACE FUNCTION invoice_create_many(p_ids uuid[], p_numbers integer[], p_customers uuid[], p_jobs uuid[],
                                    p_currencies text[], p_due_dates date[], p_total_pence bigint[],
                                    p_bodies text[], p_line_owners integer[], p_descriptions text[],
                                    p_quantities text[], p_unit_pence bigint[], p_created_at timestamptz)
  RETURNS TABLE (id uuid, number integer, status text, total_pence bigint, created_at timestamptz, body bytea)
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = public, pg_temp
  SET plan_cache_mode = force_generic_plan
  AS $$
  DECLARE
    scope uuid := app_account_id();
  BEGIN
    IF scope IS NULL THEN
      RAISE EXCEPTION 'invoice_create_many needs the account scope (app.account_id)'
        USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF p_line_owners IS NULL OR EXISTS (SELECT 1 FROM unnest(p_line_owners) AS o(owner)
                                         WHERE o.owner IS NULL OR o.owner NOT BETWEEN 1 AND cardinality(p_ids)) THEN
      RAISE EXCEPTION 'invoice_create_many: a line names no creation of the batch'
        USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- A creation is found by its place among the unnested arrays, never by subscript: an array
    -- may be declared to start anywhere ('[0:1]={…}'), and a subscript would then put a line
    -- under another invoice than the one whose lines_json shows it.
    RETURN QUERY
      WITH creation AS (
        SELECT c.id, c.number, c.customer_id, c.job_id, c.currency, c.due_date, c.total_pence, c.body, c.ord
          FROM unnest(p_ids, p_numbers, p_customers, p_jobs, p_currencies, p_due_dates, p_total_pence, p_bodies)
               WITH ORDINALITY AS c(id, number, customer_id, job_id, currency, due_date, total_pence, body, ord)),
      line AS (
        SELECT l.owner, l.ord, l.description, l.quantity, l.unit_pence
          FROM unnest(p_line_owners, p_descriptions, p_quantities, p_unit_pence) WITH ORDINALITY
               AS l(owner, description, quantity, unit_pence, ord)),
      rendered AS (
        SELECT line.owner,
               invoice_lines_wrap(string_agg(invoice_line_json(line.description, line.quantity::numeric(12, 2),
                                                               line.unit_pence),
                                             ',' ORDER BY line.ord)) AS lines_json
          FROM line
         GROUP BY line.owner),
      invoice AS (
        INSERT INTO invoices AS i (id, account_id, number, customer_id, job_id, currency, due_date, total_pence,
                                   lines_json, body_json, created_at, updated_at)
        SELECT c.id, scope, c.number, c.customer_id, c.job_id, c.currency, c.due_date, c.total_pence,
               coalesce(r.lines_json, '[]')::json, c.body, p_created_at, p_created_at
          FROM creation c
          LEFT JOIN rendered r ON r.owner = c.ord
        RETURNING i.id, i.number, i.status, i.total_pence, i.created_at, i.body_json),
      lines AS (
        INSERT INTO invoice_lines (account_id, invoice_id, position, description, quantity, unit_pence)
        SELECT scope, c.id, row_number() OVER (PARTITION BY line.owner ORDER BY line.ord) - 1,
               line.description, line.quantity::numeric, line.unit_pence
          FROM line JOIN creation c ON c.ord = line.owner)
      SELECT invoice.id, invoice.number, invoice.status, invoice.total_pence, invoice.created_at,
             convert_to(invoice.body_json, 'UTF8')
        FROM invoice;
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
                                 AND i.lines_json::text =
                                     (SELECT invoice_lines_wrap(string_agg(
                                               invoice_line_json(l.description, l.quantity, l.unit_pence),
                                               ',' ORDER BY l.position))
                                        FROM invoice_lines l
                                       WHERE l.account_id = i.account_id AND l.invoice_id = i.id)));
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
