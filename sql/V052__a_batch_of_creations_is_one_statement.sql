-- An account's batch of creations is written by one statement, whatever its size.
--
-- The server puts the creations of one account that arrive while its previous batch is being
-- written into one transaction (InvoiceService.createTogether). Each creation still sent its own
-- three statements: its number, invoice_create (V047) and its audit entry. invoice_create is a
-- plpgsql call whose one statement inserts the invoice and its lines, and the lines' statement
-- trigger (V015, V047) then checks them: a function call, an executor start, a trigger run and
-- their SPI round for every creation. A profile of PostgreSQL under CreateInvoiceSimulation put
-- invoice_create, its trigger and the lines' foreign-key checks at two fifths of PostgreSQL's
-- samples, most of it the per-statement machinery rather than the rows. Driven by pgbench alone
-- (16 clients on the load test's 8 accounts, 7 creations a transaction, their numbers taken by one
-- statement, alternating): 2,235-2,720 creations a second with seven invoice_create calls,
-- 3,075-3,629 with one invoice_create_many.
--
-- invoice_create_many writes what invoice_create writes, for any number of creations: every
-- invoice in one INSERT and every line in another, in one statement, so the lines' trigger runs
-- once for the batch. Each invoice's lines_json is rendered from the very lines it inserts for it,
-- with invoice_lines_json, as invoice_create renders them; the lines' trigger still checks each
-- invoice against its stored lines (it leaves alone only a row this transaction wrote whose
-- lines_json is what its lines render to), so a rendering that ever differed would be rewritten,
-- its reply would go pending and the commit would be refused, not stored wrong.
--
-- A line names its creation by its place in the arrays (1 for the first, wherever the arrays are
-- declared to start); its position within its invoice is its order among that creation's lines, as
-- invoice_create numbers them. Both the line's invoice and the lines_json that shows it are found
-- by that place, so they cannot disagree.
--
-- invoice_create stays for instances of the previous release during a rolling upgrade.
SET LOCAL ROLE tf_owner;

CREATE FUNCTION invoice_create_many(p_ids uuid[], p_numbers integer[], p_customers uuid[], p_jobs uuid[],
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
               invoice_lines_json(array_agg(line.description ORDER BY line.ord),
                                  array_agg(line.quantity ORDER BY line.ord),
                                  array_agg(line.unit_pence ORDER BY line.ord)) AS lines_json
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

REVOKE ALL ON FUNCTION invoice_create_many(uuid[], integer[], uuid[], uuid[], text[], date[], bigint[], text[],
                                           integer[], text[], text[], bigint[], timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION invoice_create_many(uuid[], integer[], uuid[], uuid[], text[], date[], bigint[], text[],
                                              integer[], text[], text[], bigint[], timestamptz) TO tf_app;
