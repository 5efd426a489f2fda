-- A creation's lines are rendered by a function that keeps its plan from one call to the next.
--
-- invoice_lines_json (V047) renders a creation's lines from the request's arrays; every creation
-- calls it twice (its number's statement, for the reply the server renders, and invoice_create,
-- for lines_json). It was a LANGUAGE sql function whose body is a query, which PostgreSQL 15
-- cannot inline into its caller and so parses and plans again on every call (V046 says why the
-- hot lookups were moved off SQL functions for the same reason). A CPU profile of PostgreSQL
-- during CreateInvoiceSimulation put fmgr_sql, with its parsing (pg_strtok) and planning, at a
-- fifth of PostgreSQL's samples. Alone in pgbench (2 clients, the three lines of the load test):
-- 11,883-12,200 calls a second as SQL, 21,676-24,577 as plpgsql with the same query, against
-- 38,063-44,477 for a bare SELECT 1.
--
-- Same signature, same text for every input (the same query, calling invoice_line_json, which
-- the lines' trigger renders with too), same volatility; only the language changes, and the
-- search_path is pinned as the other rendering function's is (invoice_lines_render, V046). The
-- grant to tf_app stands (CREATE OR REPLACE keeps it).
SET LOCAL ROLE tf_owner;

CREATE OR REPLACE FUNCTION invoice_lines_json(p_descriptions text[], p_quantities text[], p_unit_pence bigint[])
  RETURNS text
  LANGUAGE plpgsql STABLE PARALLEL SAFE SET search_path = public, pg_temp
  AS $$
  BEGIN
    -- An aggregate without GROUP BY: always exactly one row.
    RETURN (SELECT coalesce('[' || string_agg(invoice_line_json(t.description, t.quantity::numeric(12, 2),
                                                                t.unit_pence),
                                              ',' ORDER BY t.ord) || ']', '[]')
              FROM unnest(p_descriptions, p_quantities, p_unit_pence) WITH ORDINALITY
                   AS t(description, quantity, unit_pence, ord));
  END $$;
