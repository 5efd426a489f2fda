#!/usr/bin/env bash
# One run of the invoice-list load with CPU accounting per process: how many milliseconds of CPU
# the server, PostgreSQL, Redis and the generator each spend per request. The generator is
# Gatling (ListInvoicesSimulation, the issue's benchmark) or, with GENERATOR=wrk, wrk with
# list-invoices.lua: the same requests for about a third of Gatling's CPU, to show what the
# server and PostgreSQL can do when the generator takes less of the two cores.
# Start the server and seed first (README.md in this folder); run it twice, keep the second.
#   [GENERATOR=gatling|wrk] load-tests/cpu-per-request.sh [seconds=60] [baseUrl=https://127.0.0.1:18443]
# The server measured is the process listening on baseUrl's port (not any tradersflow.jar on the
# machine), PostgreSQL's share only the backends connected to the load database (TF_DB_ADMIN_URL,
# as exported for the server and the seeder). Exits non-zero, naming the failed assertions, when
# the run misses its target.
set -euo pipefail
secs=${1:-60}
base=${2:-https://127.0.0.1:18443}
generator=${GENERATOR:-gatling}
admin_url=${TF_DB_ADMIN_URL:-postgresql://postgres@127.0.0.1:5432/tf_load}
cd "$(dirname "$0")"
mkdir -p target

port=$(echo "$base" | sed -E 's#^[a-z]+://(\[[^]]*\]|[^:/]+)(:([0-9]+))?.*$#\3#')
[ -n "$port" ] || port=443
server=$(ss -Hltnp "sport = :$port" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2 || true)
if [ -z "$server" ]; then
  echo "no process is listening on port $port (from $base): start the server first" >&2
  exit 2
fi
# The backends serving the load database (not other databases' on this PostgreSQL). The pool
# opens connections as load arrives, so the list is taken again at the end: a backend born
# during the run counts all its CPU, one alive before counts what it spent since.
backends_now() { psql "$admin_url" -Atc "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"; }
if ! backends=$(backends_now); then
  echo "cannot list the load database's backends through $admin_url (set TF_DB_ADMIN_URL)" >&2
  exit 2
fi
# utime + stime, in clock ticks, summed over the given pids
ticks() { for p in "$@"; do awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || true; done | awk '{s += $1} END {print s + 0}'; }
# shellcheck disable=SC2086  # one pid per word
snapshot() { echo "$(ticks "$server") $(ticks $backends) $(ticks $(pgrep -x redis-server))"; }
echo "server pid $server (port $port); load database: $admin_url"

before=$(snapshot)
if [ "$generator" = wrk ]; then
  wrk -t2 -c64 -d"${secs}s" --latency -s list-invoices.lua "$base" > target/cpu-run.log 2>&1 &
  runner=$!
  sleep 1
  gen=$(pgrep -x wrk | head -1)
else
  mvn -B -q gatling:test -DbaseUrl="$base" -Dusers=64 -Dseconds="$secs" > target/cpu-run.log 2>&1 &
  runner=$!
  sleep 6   # Gatling's own start-up and JIT warm-up are not counted
  # Gatling's JVM, forked by this Maven (or Maven itself when the plugin runs in-process)
  gen=$(pgrep -P "$runner" -f 'io.gatling' | head -1 || true)
  [ -n "$gen" ] || gen=$runner
fi
g0=$(ticks "$gen"); g1=$g0
while kill -0 "$gen" 2>/dev/null; do g1=$(ticks "$gen"); sleep 1; done
status=0
wait "$runner" || status=$?   # Gatling's assertions fail the Maven build when the target is missed
backends=$(printf '%s\n' $backends $(backends_now) | sort -u)
after=$(snapshot)
echo "$(echo $backends | wc -w) PostgreSQL backends of the load database measured"

hz=$(getconf CLK_TCK)
if [ "$generator" = wrk ]; then
  n=$(awk '/requests in/ {print $1}' target/cpu-run.log)
else
  n=$(grep -m1 'request count' target/cpu-run.log | awk -F'|' '{gsub(/[ ,]/, "", $2); print $2}' || true)
fi
[ -n "$n" ] && [ "$n" != 0 ] && echo "$before $after" | awk -v n="$n" -v g=$((g1 - g0)) -v hz="$hz" -v gen="$generator" '{
  ms = 1000 / hz / n
  printf "requests %d; ms of CPU per request: server %.2f, postgres %.2f, redis %.2f, %s %.2f\n",
         n, ($4 - $1) * ms, ($5 - $2) * ms, ($6 - $3) * ms, gen, g * ms }'
if [ "$generator" = wrk ]; then
  grep -E 'Requests/sec|50%|99%|Non-2xx|Socket errors' target/cpu-run.log || true
else
  grep -A10 'Global Information' target/cpu-run.log | grep -E 'throughput|50th|99th|KO' || true
fi
if [ "$status" -ne 0 ]; then
  echo "FAILED: the $generator run exited $status" >&2
  grep -E ': false|KO|Assertion|ERROR' target/cpu-run.log | head -20 >&2 || tail -20 target/cpu-run.log >&2
  exit "$status"
fi
