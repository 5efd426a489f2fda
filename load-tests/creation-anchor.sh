#!/usr/bin/env bash
# The creation's database anchor: one invoice creation's transaction, statement for statement as
# the server sends it (InvoiceRepository.NUMBER: the references checked, the number taken, the
# transaction's time and the lines rendered; then invoice_create and the audit entry together;
# then COMMIT), driven by pgbench alone, so a CreateInvoiceSimulation figure can be set beside
# what PostgreSQL itself does with the same transaction on the same two cores. Each pgbench
# transaction writes as one of the accounts a CreateInvoiceSimulation run seeded (8: 64 clients on
# 8 accounts, the simulation's contention), picked at random; the reply stored is a rendered reply
# of the server's size. Two differences, both against the anchor: pgbench cannot send the number's
# statement in the round trip of BEGIN (its answer feeds the next statement through \gset, which a
# pipeline does not allow), and it creates one invoice a transaction where the server puts an
# account's waiting creations into one (InvoiceService.createTogether), so under contention the
# server may exceed it.
#
#   load-tests/creation-anchor.sh [clients=64] [seconds=15]
#
# Needs the database a CreateInvoiceSimulation run left (TF_LOAD_DB, default tf_load21).
# Afterwards it counts the invoices created (every transaction must have created one) and checks
# the numbers gap-free per account (check-invoice-numbers.sql).
set -euo pipefail
clients=${1:-64}; secs=${2:-15}
db=${TF_LOAD_DB:-tf_load21}
here=$(cd "$(dirname "$0")" && pwd)
admin=(psql -q -X -h 127.0.0.1 -U postgres -d "$db" -At)
dir=$(mktemp -d /tmp/creation-anchor.XXXXXX); trap 'rm -rf "$dir"' EXIT

# One script per account (pgbench picks one at random for each transaction): its account, one of
# its customers and one of its users, as literals.
mapfile -t refs < <("${admin[@]}" -F ' ' -c "
  SELECT DISTINCT ON (c.account_id) c.account_id, c.id, u.id
    FROM customers c JOIN users u USING (account_id)
   ORDER BY c.account_id, c.id, u.id")
[ "${#refs[@]}" -gt 0 ] || { echo "no account with a customer and a user in $db" >&2; exit 1; }
args=()
for ref in "${refs[@]}"; do
  read -r account customer user <<<"$ref"
  script="$dir/$account.sql"
  cat > "$script" <<SQL
SELECT gen_random_uuid() AS id \gset
\startpipeline
BEGIN;
SELECT set_config('app.account_id', '$account', true);
\endpipeline
WITH refs AS (
  SELECT EXISTS (SELECT 1 FROM customers WHERE id = '$customer'::uuid) AS customer_found,
         (NULL::uuid IS NULL OR EXISTS (SELECT 1 FROM jobs WHERE id = NULL::uuid)) AS job_found),
next AS (
  INSERT INTO invoice_counters (last_number)
  SELECT 1 FROM refs WHERE customer_found AND job_found
  ON CONFLICT (account_id) DO UPDATE SET last_number = invoice_counters.last_number + 1
  RETURNING last_number)
SELECT refs.customer_found, refs.job_found, next.last_number AS number, now() AS created_at,
       invoice_lines_json('{"Labour (hours)",Call-out,"Copper pipe 15mm (m)"}', '{2,1,3}', '{4500,1250,333}') AS lines
  FROM refs LEFT JOIN next ON true \gset
\startpipeline
SELECT * FROM invoice_create(:id::uuid, :number, '$customer', NULL, 'GBP', '2027-01-31', 11249,
  '{"Labour (hours)",Call-out,"Copper pipe 15mm (m)"}', '{2,1,3}', '{4500,1250,333}', :created_at::timestamptz,
  '{"id":"' || :id || '","number":"INV-' || :number || '","customerId":"$customer","jobId": null,"status":"draft","currency":"GBP","lines":' || :lines || ',"totalPence":11249,"dueDate":"2027-01-31","paymentUrl": null,"paidAt": null,"createdAt":"' || :created_at || '","updatedAt":"' || :created_at || '"}');
INSERT INTO audit_log (account_id, actor_type, actor_id, impersonator_id, action, target_type, target_id,
                       ip, user_agent, details)
VALUES ('$account', 'user', '$user', NULL, 'invoice.created', 'invoice', :id, '127.0.0.1'::text::inet, 'pgbench',
        '{"number":"INV-0001","totalPence":11249}');
\endpipeline
COMMIT;
SQL
  args+=(-f "$script@1")
done

before=$("${admin[@]}" -c "SELECT count(*) FROM invoices")
out=$(pgbench -h 127.0.0.1 -U tf_app -n -M prepared -c "$clients" -j 2 -T "$secs" "${args[@]}" "$db" 2>&1) \
  || { echo "$out" >&2; exit 1; }
after=$("${admin[@]}" -c "SELECT count(*) FROM invoices")
tx=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")
grep -E '^(latency average|tps)' <<<"$out"
echo "creations: $((after - before)) for $tx transactions ($(( (after - before) / secs ))/s) on ${#refs[@]} accounts"
[ "$((after - before))" = "$tx" ] || { echo "NOT EVERY TRANSACTION CREATED ITS INVOICE" >&2; exit 1; }
psql -q -X -h 127.0.0.1 -U postgres -d "$db" -f "$here/check-invoice-numbers.sql" | grep -E "GAP"
