#!/usr/bin/env bash
# One run of the invoice-list load with CPU accounting per process: how many milliseconds of CPU
# the server, PostgreSQL, Redis and the generator each spend per request. The generator is
# Gatling (ListInvoicesSimulation, the issue's benchmark) or, with GENERATOR=wrk, wrk with
# list-invoices.lua: the same requests for about a third of Gatling's CPU, to show what the
# server and PostgreSQL can do when the generator takes less of the two cores.
# Start the server and seed first (README.md in this folder); run it twice, keep the second.
#   [GENERATOR=gatling|wrk] load-tests/cpu-per-request.sh [seconds=60] [baseUrl=https://127.0.0.1:18443]
set -euo pipefail
secs=${1:-60}
base=${2:-https://127.0.0.1:18443}
generator=${GENERATOR:-gatling}
cd "$(dirname "$0")"
mkdir -p target

server=$(pgrep -f 'tradersflow.jar' | head -1)
# utime + stime, in clock ticks, summed over the given pids
ticks() { for p in "$@"; do awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || true; done | awk '{s += $1} END {print s + 0}'; }
snapshot() { echo "$(ticks "$server") $(ticks $(pgrep -u postgres)) $(ticks $(pgrep redis-server))"; }

before=$(snapshot)
if [ "$generator" = wrk ]; then
  wrk -t2 -c64 -d"${secs}s" --latency -s list-invoices.lua "$base" > target/cpu-run.log 2>&1 &
  sleep 1
  gen=$(pgrep -x wrk | head -1)
else
  mvn -o -q gatling:test -DbaseUrl="$base" -Dusers=64 -Dseconds="$secs" > target/cpu-run.log 2>&1 &
  sleep 6   # Gatling's own start-up and JIT warm-up are not counted
  gen=$(pgrep -f 'io.gatling' | head -1)
fi
g0=$(ticks "$gen"); g1=$g0
while kill -0 "$gen" 2>/dev/null; do g1=$(ticks "$gen"); sleep 1; done
wait || true   # the run's assertions fail the Maven build when the target is missed
after=$(snapshot)

hz=$(getconf CLK_TCK)
if [ "$generator" = wrk ]; then
  n=$(awk '/requests in/ {print $1}' target/cpu-run.log)
else
  n=$(grep -m1 'request count' target/cpu-run.log | awk -F'|' '{gsub(/[ ,]/, "", $2); print $2}')
fi
echo "$before $after" | awk -v n="$n" -v g=$((g1 - g0)) -v hz="$hz" -v gen="$generator" '{
  ms = 1000 / hz / n
  printf "requests %d; ms of CPU per request: server %.2f, postgres %.2f, redis %.2f, %s %.2f\n",
         n, ($4 - $1) * ms, ($5 - $2) * ms, ($6 - $3) * ms, gen, g * ms }'
if [ "$generator" = wrk ]; then
  grep -E 'Requests/sec|50%|99%|Non-2xx|Socket errors' target/cpu-run.log || true
else
  grep -A10 'Global Information' target/cpu-run.log | grep -E 'throughput|50th|99th|KO' || true
fi
