#!/usr/bin/env bash
# Issue 21's second half of the refresh target: logout-all reaches every instance within 1 s while
# refreshes run flat out. Two instances share one fresh database (TF_LOAD_DB, default
# tf_logout21), Redis and keys; wrk rotates 100 refresh families on each (32 connections each,
# refresh-tokens.lua) while logout-probe.py signs a user in on both, signs out everywhere on the
# first and times the second's refusals. From the repository root, after `mvn -DskipTests package`:
#
#   load-tests/logout-under-refresh.sh [seconds=40] [probes=3]
#
# Prints each wrk's rate and every probe's line; exits non-zero when a probe saw a token survive
# 1 s on the second instance, or a refresh failed.
set -euo pipefail
secs=${1:-40}; probes=${2:-3}
cd "$(dirname "$0")/.."
. load-tests/server-start.sh
db=${TF_LOAD_DB:-tf_logout21}
work=$(pwd)/load-tests/target/logout-under-refresh
rm -rf "$work" && mkdir -p "$work"
ports=(18443 18543)
export TF_DB_URL=postgresql://tf_app@127.0.0.1:5432/$db TF_DB_ADMIN_URL=postgresql://postgres@127.0.0.1:5432/$db \
       TF_REDIS_KEY_PREFIX="tflogout:$(date +%s):" TF_DEV_DATA_DIR=$work/dev TF_STORAGE_DIR=$work/files \
       TF_API_RATE_PER_SECOND=1000 TF_API_BURST=2000 TF_ACCESS_TOKEN_TTL_SECONDS=3600 \
       TF_LOGIN_IP_LIMIT_PER_MINUTE=100000
psql -q "postgresql://postgres@127.0.0.1:5432/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"

servers=()
cleanup() { for pid in "${servers[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
for i in 0 1; do
  port=${ports[$i]}
  # The first migrates; the second starts once it has.
  TF_HTTPS_PORT=$port TF_HTTP_PORT=$((port - 363)) TF_PUBLIC_URL=https://localhost:$port \
    java -jar target/tradersflow.jar > "$work/server-$i.log" 2>&1 &
  servers+=($!)
  await_server "$!" "$work/server-$i.log" "$port"
done
seed() { java -cp target/tradersflow.jar:target/test-classes uk.co.tradersflow.loadtest.LoadSeed "$@" > "$work/seed.log" 2>&1 \
           || { tail -20 "$work/seed.log" >&2; exit 1; }; }
seed 264 1 "$work/tokens.csv" --refresh
seed 1 1 "$work/login.csv" --login
IFS=, read -r _ email password < <(tail -1 "$work/login.csv")
# Families: 64 for the warm-up, then 100 for each instance.
{ head -1 "$work/tokens.csv"; sed -n 2,65p "$work/tokens.csv"; } > "$work/warmup.csv"
{ head -1 "$work/tokens.csv"; sed -n 66,165p "$work/tokens.csv"; } > "$work/first.csv"
{ head -1 "$work/tokens.csv"; sed -n 166,265p "$work/tokens.csv"; } > "$work/second.csv"

echo "== warm-up: 20 s of refreshes on instance 1 (64 families of their own)"
(cd load-tests && TOKENS="$work/warmup.csv" THREADS=1 wrk -t1 -c32 -d20s -s refresh-tokens.lua "https://127.0.0.1:${ports[0]}") \
  > "$work/warmup.log" 2>&1 || true
python3 load-tests/logout-probe.py "https://127.0.0.1:${ports[0]}" "https://127.0.0.1:${ports[1]}" "$email" "$password" \
  > "$work/probe-warmup.txt" 2>&1 || true

echo "== refreshes on both instances for ${secs}s, $probes logout-all probes meanwhile"
loads=()
for i in 0 1; do
  file=$([ "$i" = 0 ] && echo first || echo second)
  (cd load-tests && TOKENS="$work/$file.csv" THREADS=1 wrk -t1 -c32 -d"${secs}s" --latency -s refresh-tokens.lua \
    "https://127.0.0.1:${ports[$i]}") > "$work/wrk-$i.log" 2>&1 &
  loads+=($!)
done
status=0
sleep $((secs / (probes + 1)))
for p in $(seq 1 "$probes"); do
  python3 load-tests/logout-probe.py "https://127.0.0.1:${ports[0]}" "https://127.0.0.1:${ports[1]}" "$email" "$password" \
    || status=1
  sleep $((secs / (probes + 1)))
done
wait "${loads[@]}" || true
for i in 0 1; do
  echo "instance $((i + 1)): $(grep -E 'Requests/sec' "$work/wrk-$i.log") $(grep -E 'Non-2xx|Socket errors|families lost' "$work/wrk-$i.log" | tr '\n' ' ')"
  grep -qE 'Non-2xx|Socket errors|families lost [1-9]' "$work/wrk-$i.log" && status=1
done
awk '/Requests\/sec/ { s += $2 } END { printf "refreshes: %.0f/s on the two instances together\n", s }' "$work"/wrk-*.log
exit $status
