-- invoice_render_pending(id) read every invoice in the database to find one.
--
-- V029 wrote it as one query for both uses, `WHERE (p_invoice IS NULL OR i.id = p_invoice) AND
-- i.body_json IS NULL`. A SQL function that is not inlined (SECURITY DEFINER and SET prevent it)
-- is planned without its arguments' values, and no plan with that OR can use the primary key: every
-- call was a sequential scan of invoices, all accounts' rows. Every invoice write renders its reply
-- through this function, so creating one invoice cost ~1 ms of database CPU per 10,000 invoices
-- stored (3.2 s at 5,000,000), and invoice creation ran at 230-260 a second on 2 cores with a
-- few thousand in the table, most of the database's time in this scan.
--
-- Now the two uses are two queries, chosen before either is planned: one invoice by its primary
-- key; every pending one (tests and maintenance) by the scan, as before. Not one query of two
-- branches gated by the argument: its plan still costs the scan, which at 5,000,000 invoices sets
-- off JIT compilation and parallel workers on every call (0.3 s, though the scan never runs).
-- Same columns, same rows, same grants; plpgsql, whose RETURN QUERY plans each query apart.
SET LOCAL ROLE tf_owner;

CREATE OR REPLACE FUNCTION invoice_render_pending(p_invoice uuid)
  RETURNS TABLE (id uuid, number integer, customer_id uuid, job_id uuid, status text, currency text, lines_json text,
                 total_pence bigint, due_date date, payment_url text, paid_at timestamptz, created_at timestamptz,
                 updated_at timestamptz)
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
  #variable_conflict use_column
  BEGIN
    IF p_invoice IS NOT NULL THEN
      RETURN QUERY
        SELECT i.id, i.number, i.customer_id, i.job_id, i.status, i.currency, i.lines_json::text, i.total_pence,
               i.due_date, i.payment_url, i.paid_at, i.created_at, i.updated_at
          FROM invoices i
         WHERE i.id = p_invoice AND i.body_json IS NULL;
    ELSE
      RETURN QUERY
        SELECT i.id, i.number, i.customer_id, i.job_id, i.status, i.currency, i.lines_json::text, i.total_pence,
               i.due_date, i.payment_url, i.paid_at, i.created_at, i.updated_at
          FROM invoices i
         WHERE i.body_json IS NULL;
    END IF;
  END $$;
