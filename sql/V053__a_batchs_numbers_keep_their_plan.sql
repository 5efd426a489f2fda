-- A batch's numbers are taken by a statement planned once per connection, not once per batch.
--
-- The first statement of a batch of creations (InvoiceRepository.NUMBER_ALL until now) checks each
-- creation's customer and job, takes the account's next numbers and renders each creation's lines.
-- Sent by the server as a prepared statement whose parameters are arrays, PostgreSQL planned it
-- afresh on every execution: its plan cache compares a generic plan, costed for arrays of unknown
-- length, with custom plans costed for the few elements each batch has, finds the custom plans
-- cheaper and keeps making them. pg_stat_statements over 30 s of CreateInvoiceSimulation: 19,166
-- plans for 19,553 executions, 9.3 s of planning against 8.1 s of execution, the planning about a
-- sixth of PostgreSQL's CPU in that run. (creation-anchor.sh sends the statement with literals, so
-- pgbench planned it once and never showed it.)
--
-- invoice_number_all runs the same statement with the plan cache told to keep its generic plan, as
-- invoice_create_many does (V052): at a batch's size (one to a few dozen creations) every plan
-- PostgreSQL considers for it is a handful of index probes and a small sort, so the generic plan
-- loses nothing by not knowing the arrays' length. SECURITY INVOKER: it reads and writes under the
-- caller's row-level security as the statement did (customers and jobs found only in the caller's
-- account, the counter row the caller's own). Each creation's lines are rendered inside the
-- statement, from invoice_line_json (V047) and invoice_lines_wrap below, both inlined by the
-- planner: the text invoice_lines_json renders, without a function call per creation (V054 says
-- why, and renders lines_json and the trigger's check the same way).
--
-- $1, $2: customers and jobs, one per creation; $3-$6: lines, each naming its creation by its place
-- among the creations (1 for the first). Rows in the creations' order.
SET LOCAL ROLE tf_owner;

-- The brackets around a rendering of lines joined by commas (string_agg of invoice_line_json, in
-- the lines' order); no line renders as []. A SQL function of one expression, so PostgreSQL
-- inlines it where it is called.
CREATE FUNCTION invoice_lines_wrap(p_joined text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN coalesce('[' || p_joined || ']', '[]');

REVOKE ALL ON FUNCTION invoice_lines_wrap(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION invoice_lines_wrap(text) TO tf_app;

CREATE FUNCTION invoice_number_all(p_customers uuid[], p_jobs uuid[], p_line_owners integer[],
                                   p_descriptions text[], p_quantities text[], p_unit_pence bigint[])
  RETURNS TABLE (customer_found boolean, job_found boolean, number integer, created_at timestamptz,
                 lines_json text)
  LANGUAGE plpgsql VOLATILE
  SET search_path = public, pg_temp
  SET plan_cache_mode = force_generic_plan
  AS $$
  #variable_conflict use_column
  BEGIN
    RETURN QUERY
      WITH creation AS (
        SELECT c.ord, EXISTS (SELECT 1 FROM customers WHERE customers.id = c.customer_id) AS customer_found,
               (c.job_id IS NULL OR EXISTS (SELECT 1 FROM jobs WHERE jobs.id = c.job_id)) AS job_found
          FROM unnest(p_customers, p_jobs) WITH ORDINALITY AS c(customer_id, job_id, ord)),
      found AS (
        SELECT creation.ord, row_number() OVER (ORDER BY creation.ord) AS k, count(*) OVER () AS n
          FROM creation WHERE creation.customer_found AND creation.job_found),
      next AS (
        INSERT INTO invoice_counters (last_number)
        SELECT count(*) FROM found HAVING count(*) > 0
        ON CONFLICT (account_id) DO UPDATE SET last_number = invoice_counters.last_number + excluded.last_number
        RETURNING invoice_counters.last_number),
      rendered AS (
        SELECT l.owner,
               invoice_lines_wrap(string_agg(invoice_line_json(l.description, l.quantity::numeric(12, 2), l.unit_pence),
                                             ',' ORDER BY l.ord)) AS lines_json
          FROM unnest(p_line_owners, p_descriptions, p_quantities, p_unit_pence) WITH ORDINALITY
               AS l(owner, description, quantity, unit_pence, ord)
         GROUP BY l.owner)
      SELECT creation.customer_found, creation.job_found,
             (next.last_number - found.n + found.k)::integer, now(),
             coalesce(rendered.lines_json, '[]')
        FROM creation
        LEFT JOIN found ON found.ord = creation.ord
        LEFT JOIN next ON found.ord IS NOT NULL
        LEFT JOIN rendered ON rendered.owner = creation.ord
       ORDER BY creation.ord;
  END $$;

REVOKE ALL ON FUNCTION invoice_number_all(uuid[], uuid[], integer[], text[], text[], bigint[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION invoice_number_all(uuid[], uuid[], integer[], text[], text[], bigint[]) TO tf_app;
