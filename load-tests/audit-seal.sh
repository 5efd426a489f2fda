#!/usr/bin/env bash
# The audit sealer alone: entries sealed a second by one audit_seal round, in alternation on two
# databases (each migrated by the checkout to compare, e.g. the tf_load21 a run.sh of each left):
#
#   load-tests/audit-seal.sh <database B> <database A> [entries=20000] [rounds=3]
#
# Each round, in each database in turn: VACUUM audit_log (this machine's main cluster runs with
# autovacuum off, and a round's dead row versions would slow the next), insert <entries> unsealed
# entries as the writers do (one statement, outside the timing), CHECKPOINT, then time one
# `SELECT audit_seal(<entries>)` as tf_owner, the role the sealer's function runs as. The running
# servers' sealers must be stopped (they would seal the entries first): run it with no server up.
# PG_PORT selects the cluster (5432).
set -euo pipefail
db_b=${1:?database B}; db_a=${2:?database A}
entries=${3:-20000}; rounds=${4:-3}
port=${PG_PORT:-5432}
psql_in() { psql -X -q -h 127.0.0.1 -p "$port" -U postgres -d "$1" -v ON_ERROR_STOP=1 "${@:2}"; }

seal_once() { # database -> seconds the round took
  psql_in "$1" -c "VACUUM audit_log" -c "
    INSERT INTO audit_log (account_id, actor_type, actor_id, action, target_type, target_id, ip, user_agent, details)
    SELECT gen_random_uuid(), 'user', gen_random_uuid(), 'invoice.created', 'invoice', gen_random_uuid()::text,
           '203.0.113.7', 'Mozilla/5.0 (X11; Linux x86_64) TradersFlow load test',
           jsonb_build_object('number', 'INV-' || g, 'totalPence', 12345)
      FROM generate_series(1, $entries) g" -c "CHECKPOINT"
  # Meta-commands (\gset) need psql's script input, not -c.
  psql_in "$1" -At <<SQL
SET ROLE tf_owner;
SELECT clock_timestamp() AS t0 \\gset
SELECT audit_seal($entries) AS sealed \\gset
SELECT :sealed, extract(epoch FROM clock_timestamp() - :'t0'::timestamptz);
SQL
}

printf 'round\tside\tsealed\tseconds\tentries/s\n'
for r in $(seq 1 "$rounds"); do
  for side in B A; do
    db=$db_b; [ "$side" = A ] && db=$db_a
    IFS='|' read -r sealed secs < <(seal_once "$db")
    [ "$sealed" = "$entries" ] || { echo "round $r $side: sealed $sealed of $entries (a server's sealer running?)" >&2; exit 1; }
    awk -v r="$r" -v s="$side" -v n="$sealed" -v t="$secs" 'BEGIN { printf "%s\t%s\t%s\t%.3f\t%.0f\n", r, s, n, t, n / t }'
  done
done
