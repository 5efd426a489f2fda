#!/usr/bin/env bash
# The Stripe applier's own rate, apart from the HTTPS path: starts the built server of this
# checkout on a fresh database, stores a backlog of N events in one statement (the simulation's
# kind: subscription updates of customers no account has), and times the webhook verticles
# until every one is handled, then checks each was claimed once. From the repository root:
#
#   load-tests/stripe-drain.sh [events=50000]
#
# Environment: PORT=18443 HTTPS port, TF_LOAD_DB=tf_drain database (dropped and recreated).
# Needs target/tradersflow.jar (mvn -B -q -o -DskipTests package). Exits non-zero when an event
# is left unhandled after 300 s or was claimed more than once.
set -euo pipefail
events=${1:-50000}
cd "$(dirname "$0")/.."
. load-tests/server-start.sh
root=$(pwd)
port=${PORT:-18443}
db=${TF_LOAD_DB:-tf_drain}
work=$root/load-tests/target/drain
rm -rf "$work" && mkdir -p "$work"
export TF_HTTPS_PORT=$port TF_HTTP_PORT=$((port - 363)) TF_PUBLIC_URL=https://localhost:$port \
       TF_DB_URL=postgresql://tf_app@127.0.0.1:5432/$db \
       TF_DB_ADMIN_URL=postgresql://postgres@127.0.0.1:5432/$db \
       TF_REDIS_KEY_PREFIX="tfdrain:$(date +%s):" TF_DEV_DATA_DIR=$work/dev TF_STORAGE_DIR=$work/files \
       TF_STRIPE_WEBHOOK_SECRET=whsec_load_test_secret_21
admin=$TF_DB_ADMIN_URL

psql -q "postgresql://postgres@127.0.0.1:5432/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
server=""
cleanup() { if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then kill "$server"; wait "$server" 2>/dev/null || true; fi; }
trap cleanup EXIT
java ${JAVA_OPTS:-} -jar target/tradersflow.jar > "$work/server.log" 2>&1 &
server=$!
await_server "$server" "$work/server.log" "$port"
ticks() { awk '{print $14 + $15}' "/proc/$jvm/stat"; }
commits() { psql "$admin" -Atc "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"; }

cpu_before=$(ticks); commits_before=$(commits)
start=$(date +%s.%N)
psql -q "$admin" -c "
  INSERT INTO stripe_events (id, type, created, payload)
  SELECT 'evt_drain' || g, 'customer.subscription.updated', now(),
         jsonb_build_object('id', 'evt_drain' || g, 'object', 'event', 'type', 'customer.subscription.updated',
                            'created', extract(epoch FROM now())::bigint - g % 120, 'livemode', false,
                            'data', jsonb_build_object('object', jsonb_build_object(
                              'id', 'sub_load' || g % 500, 'object', 'subscription',
                              'customer', 'cus_load' || g % 500, 'status', 'active')))
    FROM generate_series(1, $events) g"
stored=$(date +%s.%N)
while :; do
  left=$(stripe_unapplied "$admin")
  [ "$left" = 0 ] && break
  awk -v s="$start" -v n="$(date +%s.%N)" 'BEGIN { exit !(n - s > 300) }' && { echo "still $left events unhandled after 300 s" >&2; exit 1; }
  sleep 0.2
done
done_at=$(date +%s.%N)
cpu_after=$(ticks); commits_after=$(commits)
read -r handled once transactions < <(psql "$admin" -At -F ' ' -c "
  SELECT count(*), count(*) FILTER (WHERE status IN ('processed', 'ignored') AND attempts = 1), count(DISTINCT processed_at)
    FROM stripe_events WHERE id LIKE 'evt_drain%'")
awk -v n="$handled" -v a="$stored" -v b="$done_at" -v s="$start" -v t=$((cpu_after - cpu_before)) -v hz="$(getconf CLK_TCK)" \
    -v c=$((commits_after - commits_before)) -v x="$transactions" 'BEGIN {
  printf "stored %d events in %.1f s; handled all %.1f s after they were stored: %.0f events/s applied\n", n, a - s, b - a, n / (b - a)
  printf "server CPU %.3f ms per event; %.2f database commits per event; %.1f events per applying transaction\n", t * 1000 / hz / n, c / n, n / x }'
if [ "$once" = "$handled" ]; then
  echo "EXACTLY ONCE: $once of $handled events handled on their one claim"
else
  echo "NOT EXACTLY ONCE: $((handled - once)) of $handled events claimed more than once or not handled" >&2
  exit 1
fi
