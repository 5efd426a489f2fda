#!/usr/bin/env bash
# Growth: the invoice list's p50/p99 with 1,000 invoices in the database (50 accounts x 20), then
# with 5,000,000 (10,000 accounts x 500, bulk-seeded in SQL by LoadSeed --growth, ~minutes), the
# same 50 tradespeople's tokens both times (full pages of 20), 64 users. From the repository root:
#   load-tests/growth.sh [seconds=60]
# GROWTH_ACCOUNTS / GROWTH_INVOICES change the big database (e.g. 1000 x 50 for a smoke run).
# Target (issue 21): p50 and p99 within 20 % of each other's between the two.
set -euo pipefail
secs=${1:-60}
cd "$(dirname "$0")/.."
accounts=${GROWTH_ACCOUNTS:-10000}
invoices=${GROWTH_INVOICES:-500}
out=load-tests/target/growth
mkdir -p "$out"
echo "== 1,000 invoices"
SEED="50 20" load-tests/run.sh ListInvoicesSimulation "$secs" 2>&1 | tee "$out/small.log" | grep -vE 'WARN|DEBUG' || true
echo "== $accounts accounts x $invoices invoices"
BUILD=0 SEED="$accounts $invoices $(pwd)/$out/tokens-big.csv 50 --growth" \
  load-tests/run.sh ListInvoicesSimulation "$secs" 2>&1 | tee "$out/big.log" | grep -vE 'WARN|DEBUG' || true
small=$(grep -m1 '^ALL ' "$out/small.log" || true)
big=$(grep -m1 '^ALL ' "$out/big.log" || true)
echo "== growth: list p50/p99 (ms)"
echo "$small" | awk '{ printf "1,000 invoices:      %9.1f req/s  p50 %s  p99 %s\n", $4, $6, $9 }'
echo "$big" | awk -v n="$((accounts * invoices))" '{ printf "%s invoices: %9.1f req/s  p50 %s  p99 %s\n", n, $4, $6, $9 }'
paste <(echo "$small") <(echo "$big") | awk '{ p50 = ($16 - $6) * 100 / ($6 ? $6 : 1); p99 = ($19 - $9) * 100 / ($9 ? $9 : 1);
  printf "change: p50 %+.0f %%, p99 %+.0f %% (target within 20 %%): %s\n", p50, p99,
         (p50 <= 20 && p50 >= -20 && p99 <= 20 && p99 >= -20) ? "met" : "MISSED" }'
