#!/usr/bin/env bash
# The refresh's database anchor: its one statement (auth_session_rotate, sql/V049) driven by pgbench
# alone, so a RefreshSimulation figure can be set beside what PostgreSQL itself does on the same
# two cores. Each pgbench client rotates a session of its own, seeded here with the id
# md5(<seed><client id>) and the secret hash sha256(<that id>), and presents the generation the
# last rotation answered next. Afterwards
# the script counts the generations moved: every transaction must have moved its session by one.
#
#   load-tests/refresh-rotation-anchor.sh [clients=64] [seconds=15]
#
# Needs the database a RefreshSimulation run left (TF_LOAD_DB, default tf_load21), with at least as
# many users as clients.
set -euo pipefail
clients=${1:-64}; secs=${2:-15}
db=${TF_LOAD_DB:-tf_load21}
admin=(psql -q -X -h 127.0.0.1 -U postgres -d "$db" -At)
seed="anchor$(date +%s%N)"
script=$(mktemp /tmp/refresh-rotation.XXXXXX.sql); trap 'rm -f "$script"' EXIT
cat > "$script" <<'SQL'
SELECT generation AS g, rotated
  FROM auth_session_rotate(md5(:h::text || :client_id)::uuid, sha256(md5(:h::text || :client_id)::bytea), :g, now()) \gset
SQL
seeded=$("${admin[@]}" -c "WITH s AS (
    INSERT INTO sessions (id, account_id, user_id, expires_at, refresh_secret_hash)
    SELECT md5('$seed' || (n - 1))::uuid, u.account_id, u.id, now() + interval '1 day',
           sha256(md5('$seed' || (n - 1))::bytea)
      FROM (SELECT id, account_id, row_number() OVER (ORDER BY id) AS n FROM users) u
     WHERE n <= $clients RETURNING 1)
  SELECT count(*) FROM s")
[ "$seeded" = "$clients" ] || { echo "only $seeded users in $db for $clients clients" >&2; exit 1; }
moved="SELECT coalesce(sum(refresh_generation), 0) FROM sessions WHERE id IN
         (SELECT md5('$seed' || n)::uuid FROM generate_series(0, $clients - 1) n)"
before=$("${admin[@]}" -c "$moved")
out=$(pgbench -h 127.0.0.1 -U tf_app -n -M prepared -c "$clients" -j 2 -T "$secs" -D h="$seed" -D g=0 -f "$script" "$db" 2>&1)
after=$("${admin[@]}" -c "$moved")
tx=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")
grep -E '^(latency average|tps)' <<<"$out"
echo "rotations: $((after - before)) for $tx transactions ($(( (after - before) / secs ))/s)"
[ "$((after - before))" = "$tx" ] || { echo "NOT EVERY TRANSACTION ROTATED ITS SESSION" >&2; exit 1; }
