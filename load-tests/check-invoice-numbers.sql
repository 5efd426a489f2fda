-- After CreateInvoiceSimulation: are invoice numbers gap-free and unique per account, and does each
-- account's counter stand at its highest number? One line per account, then a verdict line.
-- psql "$TF_DB_ADMIN_URL" -f load-tests/check-invoice-numbers.sql   (run.sh runs it)
\pset footer off
SELECT i.account_id, count(*) AS invoices, min(i.number) AS first, max(i.number) AS last,
       count(DISTINCT i.number) AS distinct_numbers, c.last_number AS counter,
       count(*) = max(i.number) AND count(DISTINCT i.number) = count(*) AND min(i.number) = 1
         AND c.last_number = max(i.number) AS gap_free
  FROM invoices i JOIN invoice_counters c USING (account_id)
 GROUP BY i.account_id, c.last_number
 ORDER BY i.account_id;
SELECT CASE WHEN bool_and(ok) THEN 'GAP-FREE: every account numbered 1..n without gaps or repeats ('
              || count(*) || ' accounts, ' || sum(n) || ' invoices)'
            ELSE 'GAPS FOUND in ' || count(*) FILTER (WHERE NOT ok) || ' of ' || count(*) || ' accounts' END AS verdict
  FROM (SELECT account_id, count(*) AS n,
               count(*) = max(number) AND count(DISTINCT number) = count(*) AND min(number) = 1
                 AND max(c.last_number) = max(number) AS ok
          FROM invoices JOIN invoice_counters c USING (account_id)
         GROUP BY account_id) per_account;
