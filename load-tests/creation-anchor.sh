#!/usr/bin/env bash
# The creation's database anchor: a batch of invoice creations' transaction, statement for
# statement as the server sends it for one account's batch (invoice_number_all, sql/V053: the
# references checked, the numbers taken, the transaction's time and the lines rendered; then
# invoice_create_many and the audit entries together; then COMMIT), driven by pgbench alone, so a
# CreateInvoiceSimulation figure can be set beside what PostgreSQL itself does with the same
# transaction on the same two cores. Each pgbench transaction writes as one of the accounts a
# CreateInvoiceSimulation run seeded (8: 64 clients on 8 accounts, the simulation's contention),
# picked at random; the replies stored are rendered replies of the server's size. BATCH creations
# go in each transaction (default 1). The server puts an account's creations that arrive while its
# previous batch is written into one transaction (InvoiceService.createTogether): with 64 writers
# on 8 accounts its batches hold up to 8, so BATCH=1 is the anchor's floor and BATCH=7 near what
# the server does under that load. As the server does, the audit entries and the invoices go in one
# round trip, and COMMIT in the next once they have answered (Db.finish). One difference, against
# the anchor: pgbench cannot send the numbers' statement in the round trip of BEGIN (its answer
# feeds the next statement through \gset, which a pipeline does not allow). The audit entries
# name random targets (the invoices' ids are drawn in the statement after them).
#
#   [BATCH=1] load-tests/creation-anchor.sh [clients=64] [seconds=15]
#
# Needs the database a CreateInvoiceSimulation run left (TF_LOAD_DB, default tf_load21).
# Afterwards it counts the invoices created (every transaction must have created BATCH) and checks
# the numbers gap-free per account (check-invoice-numbers.sql).
set -euo pipefail
clients=${1:-64}; secs=${2:-15}; batch=${BATCH:-1}
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
  owners=$(seq 1 "$batch" | awk '{printf "%s%d,%d,%d", (NR > 1 ? "," : ""), $1, $1, $1}')
  descriptions=$(seq 1 "$batch" | awk '{printf "%s\"Labour (hours)\",Call-out,\"Copper pipe 15mm (m)\"", (NR > 1 ? "," : "")}')
  quantities=$(seq 1 "$batch" | awk '{printf "%s2,1,3", (NR > 1 ? "," : "")}')
  pence=$(seq 1 "$batch" | awk '{printf "%s4500,1250,333", (NR > 1 ? "," : "")}')
  {
    cat <<SQL
\startpipeline
BEGIN;
SELECT set_config('app.account_id', '$account', true);
\endpipeline
SELECT min(number) AS first, max(created_at) AS created_at, max(lines_json) AS lines
  FROM invoice_number_all(array_fill('$customer'::uuid, ARRAY[$batch]), array_fill(NULL::uuid, ARRAY[$batch]),
                          '{$owners}', '{$descriptions}', '{$quantities}', '{$pence}') \gset
\startpipeline
SQL
    # The batch's audit entries as AuditLog.appendAll writes them: one statement, in order.
    cat <<SQL
INSERT INTO audit_log (account_id, actor_type, actor_id, impersonator_id, action, target_type, target_id,
                       ip, user_agent, details)
SELECT '$account', 'user', '$user', NULL, 'invoice.created', 'invoice', gen_random_uuid()::text, '127.0.0.1'::text::inet,
       'pgbench', ('{"number":"INV-' || lpad((:first + k - 1)::text, greatest(4, length((:first + k - 1)::text)), '0')
                   || '","totalPence":11249}')::jsonb
  FROM generate_series(1, $batch) AS k ORDER BY k;
SQL
    cat <<SQL
WITH c AS (
  SELECT gen_random_uuid() AS id, :first + g - 1 AS number FROM generate_series(1, $batch) AS g)
SELECT * FROM invoice_create_many(
  (SELECT array_agg(id ORDER BY number) FROM c), (SELECT array_agg(number ORDER BY number) FROM c),
  array_fill('$customer'::uuid, ARRAY[$batch]), array_fill(NULL::uuid, ARRAY[$batch]), array_fill('GBP'::text, ARRAY[$batch]),
  array_fill('2027-01-31'::date, ARRAY[$batch]), array_fill(11249::bigint, ARRAY[$batch]),
  (SELECT array_agg('{"id":"' || id || '","number":"INV-' || number || '","customerId":"$customer","jobId": null,"status":"draft","currency":"GBP","lines":' || :lines || ',"totalPence":11249,"dueDate":"2027-01-31","paymentUrl": null,"paidAt": null,"createdAt":"' || :created_at || '","updatedAt":"' || :created_at || '"}' ORDER BY number) FROM c),
  '{$owners}', '{$descriptions}', '{$quantities}', '{$pence}', :created_at::timestamptz);
\endpipeline
COMMIT;
SQL
  } > "$script"
  args+=(-f "$script@1")
done

before=$("${admin[@]}" -c "SELECT count(*) FROM invoices")
out=$(pgbench -h 127.0.0.1 -U tf_app -n -M prepared -c "$clients" -j 2 -T "$secs" "${args[@]}" "$db" 2>&1) \
  || { echo "$out" >&2; exit 1; }
after=$("${admin[@]}" -c "SELECT count(*) FROM invoices")
tx=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")
grep -E '^(latency average|tps)' <<<"$out"
echo "creations: $((after - before)) for $tx transactions of $batch ($(( (after - before) / secs ))/s) on ${#refs[@]} accounts"
[ "$((after - before))" = "$((tx * batch))" ] || { echo "NOT EVERY TRANSACTION CREATED ITS $batch INVOICES" >&2; exit 1; }
psql -q -X -h 127.0.0.1 -U postgres -d "$db" -f "$here/check-invoice-numbers.sql" | grep -E "GAP"
