#!/usr/bin/env bash
# The refresh's database anchor: its one statement (auth_refresh_rotate, sql/V044) driven by pgbench
# alone, so a RefreshSimulation figure can be set beside what PostgreSQL itself does on the same
# two cores. Each pgbench client rotates a family of its own: it starts from a token seeded here,
# sha256(<seed><client id>), and presents each successor next (the successor's hash is derived
# from the last, so no server is needed). Afterwards the script counts the rows rotated: every
# transaction must have rotated one token.
#
#   load-tests/refresh-rotation-anchor.sh [clients=64] [seconds=15]
#
# Needs the database a RefreshSimulation run left (TF_LOAD_DB, default tf_load21: its sessions are
# live for a day), with at least as many live sessions as clients.
set -euo pipefail
clients=${1:-64}; secs=${2:-15}
db=${TF_LOAD_DB:-tf_load21}
admin=(psql -q -X -h 127.0.0.1 -U postgres -d "$db" -At)
seed="anchor$(date +%s%N)"
script=$(mktemp /tmp/refresh-rotation.XXXXXX.sql); trap 'rm -f "$script"' EXIT
cat > "$script" <<'SQL'
SELECT encode(sha256((:h::text || :client_id)::bytea), 'hex') AS h, rotated
  FROM auth_refresh_rotate(sha256((:h::text || :client_id)::bytea), now(), gen_random_uuid(), '\x00'::bytea,
       sha256((encode(sha256((:h::text || :client_id)::bytea), 'hex') || :client_id)::bytea), 3600) \gset
SQL
seeded=$("${admin[@]}" -c "WITH s AS (
    INSERT INTO refresh_tokens (account_id, session_id, token_hash, expires_at)
    SELECT s.account_id, s.id, sha256(('$seed' || (n - 1))::bytea), now() + interval '1 day'
      FROM (SELECT id, account_id, row_number() OVER (ORDER BY id) AS n FROM sessions
             WHERE revoked_at IS NULL AND expires_at > now()) s
     WHERE n <= $clients RETURNING 1)
  SELECT count(*) FROM s")
[ "$seeded" = "$clients" ] || { echo "only $seeded live sessions in $db for $clients clients" >&2; exit 1; }
before=$("${admin[@]}" -c "SELECT count(*) FROM refresh_tokens WHERE spent_at IS NOT NULL")
out=$(pgbench -h 127.0.0.1 -U tf_app -n -M prepared -c "$clients" -j 2 -T "$secs" -D h="$seed" -f "$script" "$db" 2>&1)
after=$("${admin[@]}" -c "SELECT count(*) FROM refresh_tokens WHERE spent_at IS NOT NULL")
tx=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")
grep -E '^(latency average|tps)' <<<"$out"
echo "rotations: $((after - before)) for $tx transactions ($(( (after - before) / secs ))/s)"
[ "$((after - before))" = "$tx" ] || { echo "NOT EVERY TRANSACTION ROTATED ITS TOKEN" >&2; exit 1; }
