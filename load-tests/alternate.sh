#!/usr/bin/env bash
# Before/after in alternation: the invoice list and GET /api/v1/me of two built checkouts, one
# server at a time, each round on a fresh database of its own, B A B A … (the machine's speed
# drifts, so only neighbouring rounds compare). Per round and path: wrk's req/s, p50, p99, errors
# and the server's CPU per request (utime + stime of its process over the measured seconds).
#   load-tests/alternate.sh <checkout B> <checkout A> [rounds=5] [seconds=20]
# WRK_RUNS lists what each round measures, as script:path (default: the list and /me with
# list-invoices.lua); WRK_RUNS="forged-tokens.lua:/api/v1/me" measures requests with forged tokens.
# PORT (18443) and TF_ALT_DB (tf_alt) let two people run it on one host at once.
# Each checkout must be built (`mvn -q -DskipTests package`: target/tradersflow.jar, and the
# seeder in target/test-classes). Needs wrk, psql, and PostgreSQL/Redis as in load-tests/README.md.
set -euo pipefail
b=$(cd "$1" && pwd); a=$(cd "$2" && pwd)
rounds=${3:-5}; secs=${4:-20}
here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-/tmp/tf-alternate}; mkdir -p "$out"
hz=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

run_one() { # side checkout round
  # Lower case: psql folds the unquoted name in DROP, the server's CREATE quotes it, so "tf_alt_B"
  # was never dropped and each round re-seeded the last round's database instead of a fresh one.
  local side=$1 dir=$2 round=$3 db="${TF_ALT_DB:-tf_alt}_${1,,}" port=${PORT:-18443}
  psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" postgres
  export TF_HTTPS_PORT=$port TF_HTTP_PORT=$((port - 363)) TF_PUBLIC_URL=https://localhost:$port \
         TF_DB_URL=postgresql://tf_app@127.0.0.1:5432/$db TF_DB_ADMIN_URL=postgresql://postgres@127.0.0.1:5432/$db \
         TF_REDIS_KEY_PREFIX="tfalt$side$round:" TF_DEV_DATA_DIR="$out/dev-$side" \
         TF_API_RATE_PER_SECOND=1000 TF_API_BURST=2000 TF_ACCESS_TOKEN_TTL_SECONDS=3600 TF_DEV_MAIL=on
  (cd "$dir" && exec java -jar target/tradersflow.jar > "$out/server-$side-$round.log" 2>&1) &
  local pid=$!
  # A failure part-way (set -e) must not leave this server holding the port for the next run.
  trap "kill $pid 2>/dev/null || true" EXIT
  for _ in $(seq 1 120); do grep -q 'TradersFlow started' "$out/server-$side-$round.log" 2>/dev/null && break; sleep 0.5; done
  local jpid; jpid=$(ss -Hltnp "sport = :$port" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
  (cd "$dir" && java -cp target/tradersflow.jar:target/test-classes uk.co.tradersflow.loadtest.LoadSeed 200 30 "$out/tokens.csv" > "$out/seed-$side-$round.log" 2>&1)
  cd "$here"
  TOKENS="$out/tokens.csv" wrk -t2 -c64 -d10s -s list-invoices.lua "https://127.0.0.1:$port" > /dev/null 2>&1 # warm-up
  # Split on spaces without globbing (the list's path holds a '?').
  local runs; read -ra runs <<< "${WRK_RUNS:-list-invoices.lua:/api/v1/invoices?limit=20 list-invoices.lua:/api/v1/me}"
  for run in "${runs[@]}"; do
    local script=${run%%:*} path=${run#*:}
    local t0 t1 log="$out/wrk-$side-$round-${script%.lua}-${path//[\/?=]/_}.log"
    t0=$(ticks "$jpid")
    TOKENS="$out/tokens.csv" WRK_PATH="$path" wrk -t2 -c64 -d"${secs}s" --latency -s "$script" "https://127.0.0.1:$port" > "$log" 2>&1
    t1=$(ticks "$jpid")
    # forged-tokens.lua expects every answer to be a 401: its own count of other answers says what went wrong.
    awk -v side="$side" -v round="$round" -v path="${script%.lua}:$path" -v dt=$((t1 - t0)) -v hz="$hz" -v forged=$([ "$script" = forged-tokens.lua ] && echo 1 || echo 0) '
      /Requests\/sec/ {rps = $2} /requests in/ {n = $1} /^ +50%/ {p50 = $2} /^ +99%/ {p99 = $2}
      /Socket errors/ || (/Non-2xx/ && !forged) || (/^wrong answers/ && forged) {err = err " " $0}
      END {printf "%s%d %-45s %9.0f req/s  p50 %-8s p99 %-8s server %.3f ms CPU/req%s\n",
           side, round, path, rps, p50, p99, dt * 1000 / hz / n, err}' "$log" | tee -a "$out/summary.txt"
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

: > "$out/summary.txt"
echo "B = $b ($(git -C "$b" rev-parse --short HEAD)), A = $a ($(git -C "$a" rev-parse --short HEAD))" | tee -a "$out/summary.txt"
for r in $(seq 1 "$rounds"); do
  if [ $((r % 2)) -eq 1 ]; then run_one B "$b" "$r"; run_one A "$a" "$r"; else run_one A "$a" "$r"; run_one B "$b" "$r"; fi
done
echo "summary: $out/summary.txt"
