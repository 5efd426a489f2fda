#!/usr/bin/env bash
# One Gatling run of ListInvoicesSimulation with CPU accounting per process: how many
# milliseconds of CPU the server, PostgreSQL, Redis and the generator each spend per request.
# Start the server and seed first (README.md in this folder); run it twice, keep the second.
#   load-tests/cpu-per-request.sh [seconds=60] [baseUrl=https://127.0.0.1:18443]
set -euo pipefail
secs=${1:-60}
base=${2:-https://127.0.0.1:18443}
cd "$(dirname "$0")"

server=$(pgrep -f 'tradersflow.jar' | head -1)
# utime + stime, in clock ticks, summed over the given pids
ticks() { for p in "$@"; do awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || true; done | awk '{s += $1} END {print s + 0}'; }
snapshot() { echo "$(ticks "$server") $(ticks $(pgrep -u postgres)) $(ticks $(pgrep redis-server))"; }

before=$(snapshot)
mvn -o -q gatling:test -DbaseUrl="$base" -Dusers=64 -Dseconds="$secs" > target/cpu-run.log 2>&1 &
sleep 6
gatling=$(pgrep -f 'io.gatling' | head -1)
g0=$(ticks "$gatling"); g1=$g0
while kill -0 "$gatling" 2>/dev/null; do g1=$(ticks "$gatling"); sleep 1; done
wait || true   # the run's assertions fail the Maven build when the target is missed
after=$(snapshot)

hz=$(getconf CLK_TCK)
n=$(grep -m1 'request count' target/cpu-run.log | awk -F'|' '{gsub(/[ ,]/, "", $2); print $2}')
echo "$before $after" | awk -v n="$n" -v g=$((g1 - g0)) -v hz="$hz" '{
  ms = 1000 / hz / n
  printf "requests %d; ms of CPU per request: server %.2f, postgres %.2f, redis %.2f, gatling %.2f (from 6 s in)\n",
         n, ($4 - $1) * ms, ($5 - $2) * ms, ($6 - $3) * ms, g * ms }'
grep -A10 'Global Information' target/cpu-run.log | grep -E 'throughput|50th|99th|KO' || true
