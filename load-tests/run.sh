#!/usr/bin/env bash
# One benchmark end to end: build -> fresh database -> server start -> seed -> warm-up ->
# simulation -> post-run checks -> server stop, printing the figures. From the repository root:
#
#   load-tests/run.sh <Simulation> [seconds=60]
#
# <Simulation>: ListInvoicesSimulation, MeSimulation, SignInSimulation, RefreshSimulation,
# CreateInvoiceSimulation, StripeWebhookSimulation, DocumentSimulation, MixedSimulation.
# Environment (all optional):
#   WARMUP=20      seconds of ListInvoicesSimulation before the run (JIT, TLS), assertions ignored; 0: none;
#                  as long again of the simulation itself for creations, refreshes, sign-ins and
#                  documents, and (GENERATOR=wrk) for webhooks, on events of their own
#   SEED="…"       LoadSeed arguments instead of the simulation's own (e.g. the growth seed, see growth.sh)
#   GATLING="…"    extra -D options for the simulation (e.g. "-Dusers=32 -DminRps=9000")
#   LIVE_EVERY=5   DocumentSimulation: seconds between live-heap samples (a forced GC each)
#   MEMORY=1       start the server in a 1 GiB memory cgroup with -XX:MaxRAMPercentage=75 and report
#                  heap after GC before/after the run and the peak RSS (for the 10-minute mixed run)
#   JAVA_OPTS="…"  extra server JVM options; PORT=18443 HTTPS port; TF_LOAD_DB=tf_load21 database
#   PG_PORT=5432   the PostgreSQL cluster (5433: the bench cluster of ../shared/bench, with PostgreSQL's
#                  default settings, autovacuum on, where this machine's main cluster has it off)
#   BUILD=0        skip `mvn package` (the jar and test classes are already built)
#   GENERATOR=wrk  StripeWebhookSimulation, RefreshSimulation, CreateInvoiceSimulation: the same
#                  requests sent by wrk (stripe-webhooks.lua with stripe-deliveries.py, refresh-tokens.lua,
#                  create-invoices.lua), with the same target and database check after the run;
#                  CONNECTIONS=64 wrk's connections. SignInSimulation: sign-ins alone (sign-ins.lua,
#                  8 connections, no list beside them), MIN_RATE=<0.9 × run-argon2.sh's rate> the target
#   DEV_DIR=…      the server's development keys (JWT, TLS) here instead of under the run's own folder,
#                  so a later REUSE run's server accepts the tokens seeded now
#   TF_ACCESS_TOKEN_TTL_SECONDS=3600  how long the seeded tokens live (longer for a later REUSE run)
#   REUSE=1        keep the database and tokens a previous run with the same TF_LOAD_DB, DEV_DIR and
#                  SEED left (its tokens file must exist): no drop, no seed (growth.sh alternates so)
# It drops and recreates only its own database (TF_LOAD_DB) and uses its own Redis key prefix.
# Exits non-zero when the simulation's assertions or a post-run check fail.
set -euo pipefail
sim=${1:?usage: load-tests/run.sh <Simulation> [seconds=60]}
sim=${sim#tradersflow.}
secs=${2:-60}
if [ "${GENERATOR:-gatling}" = wrk ] && ! [[ $sim =~ ^(StripeWebhookSimulation|RefreshSimulation|CreateInvoiceSimulation|SignInSimulation)$ ]]; then
  echo "GENERATOR=wrk: no wrk script for $sim" >&2; exit 2
fi
cd "$(dirname "$0")/.."
. load-tests/server-start.sh
root=$(pwd)
port=${PORT:-18443}
db=${TF_LOAD_DB:-tf_load21}
pg_port=${PG_PORT:-5432}
warmup=${WARMUP:-20}
work=$root/load-tests/target/run-$sim
rm -rf "$work" && mkdir -p "$work"

export TF_HTTPS_PORT=$port TF_HTTP_PORT=$((port - 363)) TF_PUBLIC_URL=https://localhost:$port \
       TF_DB_URL=postgresql://tf_app@127.0.0.1:$pg_port/$db \
       TF_DB_ADMIN_URL=postgresql://postgres@127.0.0.1:$pg_port/$db \
       TF_REDIS_KEY_PREFIX="tfload:$sim:$(date +%s):" TF_DEV_DATA_DIR=${DEV_DIR:-$work/dev} TF_STORAGE_DIR=$work/files \
       TF_API_RATE_PER_SECOND=1000 TF_API_BURST=2000 TF_ACCESS_TOKEN_TTL_SECONDS=${TF_ACCESS_TOKEN_TTL_SECONDS:-3600} \
       TF_LOGIN_IP_LIMIT_PER_MINUTE=100000 TF_STRIPE_WEBHOOK_SECRET=whsec_load_test_secret_21 \
       TF_UPLOAD_MAX_BYTES=$((51 * 1024 * 1024))
base=https://127.0.0.1:$port

case $sim in
  ListInvoicesSimulation|MeSimulation) seed="200 30" ;;
  SignInSimulation) seed="200 30 --login" ;;
  RefreshSimulation) seed="264 1 --refresh" ;;   # 64 families for the refresh warm-up, 200 for the run
  CreateInvoiceSimulation) seed="8 0 --customer" ;;
  StripeWebhookSimulation) seed="1 1" ;;
  DocumentSimulation) seed="10 1" ;;
  MixedSimulation) seed="200 30 --customer --login" ;;
  *) echo "unknown simulation $sim" >&2; exit 2 ;;
esac
seed=${SEED:-$seed}
# The seeder's output file is the 3rd positional argument: put ours in unless SEED gave one.
set -- $seed
positional=(); flags=()
for a in "$@"; do case $a in --*) flags+=("$a") ;; *) positional+=("$a") ;; esac; done
[ ${#positional[@]} -ge 3 ] || { while [ ${#positional[@]} -lt 2 ]; do positional+=(1); done; positional+=("$work/tokens.csv"); }
tokens=$(realpath -m "${positional[2]}")
positional[2]=$tokens

if ss -Hltn "sport = :$port" | grep -q .; then
  echo "port $port is in use: stop that server or set PORT" >&2; exit 2
fi
if [ "${BUILD:-1}" != 0 ]; then
  echo "== build"; mvn -B -q -o -DskipTests package
  (cd load-tests && mvn -B -q -o test-compile)
fi

reuse=${REUSE:-0}
if [ "$reuse" = 1 ]; then
  [ -s "$tokens" ] || { echo "REUSE=1 needs the tokens a previous run wrote to $tokens" >&2; exit 2; }
  echo "== database $db and tokens $tokens as a previous run left them"
else
  echo "== fresh database $db"
  psql -q "postgresql://postgres@127.0.0.1:$pg_port/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
fi

server=""; cgroup=""
cleanup() {
  if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then kill "$server"; wait "$server" 2>/dev/null || true; fi
  if [ -n "$cgroup" ] && [ -d "$cgroup" ]; then rmdir "$cgroup" 2>/dev/null || true; fi
}
trap cleanup EXIT

java_opts=(${JAVA_OPTS:-})
launch=(java "${java_opts[@]}" -jar target/tradersflow.jar)
if [ "${MEMORY:-0}" = 1 ]; then
  java_opts+=(-XX:MaxRAMPercentage=75)
  launch=(java "${java_opts[@]}" -jar target/tradersflow.jar)
  # A 1 GiB limit the JVM sees as the machine's memory: a cgroup (v1 here; systemd-run --scope -p
  # MemoryMax=1G where systemd runs the machine).
  if [ -d /sys/fs/cgroup/memory ] && mkdir -p "/sys/fs/cgroup/memory/tfload-$$" 2>/dev/null; then
    cgroup=/sys/fs/cgroup/memory/tfload-$$
    echo $((1024 * 1024 * 1024)) > "$cgroup/memory.limit_in_bytes"
    launch=(bash -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$cgroup" "${launch[@]}")
  elif [ "$(cat /proc/1/comm)" = systemd ]; then
    launch=(systemd-run --scope --quiet -p MemoryMax=1G "${launch[@]}")
  else
    echo "no way to put the server in a 1 GiB memory limit here (cgroup v1 memory or systemd)" >&2; exit 2
  fi
fi
echo "== server: ${launch[*]}"
"${launch[@]}" > "$work/server.log" 2>&1 &
server=$!
await_server "$server" "$work/server.log" "$port"
if [ "${MEMORY:-0}" = 1 ]; then
  echo "server JVM sees: $(jcmd "$jvm" VM.flags | tr ' ' '\n' | grep -E 'MaxHeapSize' || true)"
fi

if [ "$reuse" != 1 ]; then
  echo "== seed: LoadSeed ${positional[*]} ${flags[*]:-}"
  java -cp target/tradersflow.jar:target/test-classes uk.co.tradersflow.loadtest.LoadSeed "${positional[@]}" "${flags[@]}" \
    > "$work/seed.log" 2>&1 || { tail -30 "$work/seed.log" >&2; exit 1; }
  grep -v DEBUG "$work/seed.log" | tail -3
fi

# Files the uploads send (JPEG magic, then random bytes so nothing compresses).
if [ "$sim" = DocumentSimulation ]; then
  ( printf '\xff\xd8\xff\xe0'; head -c $((50 * 1024 * 1024 - 4)) /dev/urandom ) > load-tests/target/document.jpg
fi
if [ "$sim" = MixedSimulation ]; then
  ( printf '\xff\xd8\xff\xe0'; head -c $((1024 * 1024 - 4)) /dev/urandom ) > load-tests/target/mixed.jpg
fi

metrics() { curl -sk "$base/metrics"; }
heap_mib() { metrics | awk '/^jvm_memory_used_bytes\{area="heap"/ {s += $NF} END {printf "%.1f", s / 1048576}'; }
heap_after_gc() { jcmd "$jvm" GC.run > /dev/null; sleep 2; heap_mib; }
# Live heap: a full GC (jcmd GC.run), then the old generation's occupancy (jstat's OU, KiB), which
# after a full GC holds every live object and none of the garbage. The /metrics heap figure counts
# garbage the young generation has not collected yet, which under a large transfer is most of it.
live_heap_mib() { jcmd "$jvm" GC.run > /dev/null; jstat -gc "$jvm" | awk 'NR == 2 { printf "%.1f", $8 / 1024 }'; }
rss_mib() { awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$jvm/status"; }
ticks() { awk '{print $14 + $15}' "/proc/$jvm/stat"; }
gatling() {
  (cd load-tests && mvn -B -o gatling:test -Dsimulation="tradersflow.$1" -DbaseUrl="$base" -Dtokens="$tokens" "${@:2}")
}

if [ "$warmup" != 0 ]; then
  echo "== warm-up: ListInvoicesSimulation ${warmup}s (assertions ignored)"
  gatling ListInvoicesSimulation -Dseconds="$warmup" -DfailOnError=false -Dusers=64 > "$work/warmup.log" 2>&1 || true
  if [ "$sim" = CreateInvoiceSimulation ]; then
    # The write path (JSON body, validation, the numbered insert) is compiled only by creations;
    # what they add is numbered like the rest, so the gap-free check covers them too.
    echo "== warm-up: CreateInvoiceSimulation ${warmup}s (assertions ignored)"
    gatling CreateInvoiceSimulation -Dseconds="$warmup" -DfailOnError=false > "$work/warmup-create.log" 2>&1 || true
  fi
  if [ "$sim" = SignInSimulation ] && [ "${GENERATOR:-gatling}" = wrk ]; then
    # Argon2 (Bouncy Castle's Java) runs interpreted until the JIT has compiled it: sign-ins, not
    # lists, compile it. The same requests as the run's, on the same users (a right password resets
    # nothing, an unknown email locks nothing out).
    echo "== warm-up: sign-ins ${warmup}s (sign-ins.lua, not counted)"
    (cd load-tests && TOKENS="$tokens" THREADS=2 wrk -t2 -c"${CONNECTIONS:-8}" -d"${warmup}s" -s sign-ins.lua "$base") \
      > "$work/warmup-signin.log" 2>&1 || true
  fi
  if [ "$sim" = RefreshSimulation ] && [ -z "${SEED:-}" ]; then
    # The list does not compile the refresh path (the signer, the write statement's codec): without
    # this, a 60 s run spends a large share of the server's CPU in the JIT compiler. The warm-up
    # rotates 64 families of their own: a token it spent would, presented again by the run after the
    # grace period, end its family (a 401).
    echo "== warm-up: RefreshSimulation ${warmup}s on 64 families of its own (assertions ignored)"
    head -65 "$tokens" > "$work/warmup-tokens.csv"
    { head -1 "$tokens"; tail -n +66 "$tokens"; } > "$work/run-tokens.csv"
    (cd load-tests && mvn -B -o gatling:test -Dsimulation=tradersflow.RefreshSimulation -DbaseUrl="$base" \
      -Dtokens="$work/warmup-tokens.csv" -Dseconds="$warmup" -DfailOnError=false) > "$work/warmup-refresh.log" 2>&1 || true
    tokens=$work/run-tokens.csv
  fi
  if [ "$sim" = StripeWebhookSimulation ] && [ "${GENERATOR:-gatling}" = wrk ]; then
    # The list does not compile the webhook path (the signature check, the intake's batched insert,
    # the worker that applies events): without this the run's own seconds pay for the JIT. Events of
    # their own (evt_warm…, which check-stripe-events.sh does not count), then a wait until the
    # worker has applied them, so their backlog does not run inside the measured seconds.
    echo "== warm-up: Stripe webhooks ${warmup}s (stripe-webhooks.lua, evt_warm events, not counted)"
    python3 load-tests/stripe-deliveries.py $((warmup * 6000)) "$TF_STRIPE_WEBHOOK_SECRET" "$work/warmup-deliveries.tsv" \
      0.2 evt_warm > /dev/null
    (cd load-tests && DELIVERIES="$work/warmup-deliveries.tsv" SENT="$work/warmup-sent.txt" THREADS=2 \
      wrk -t2 -c"${CONNECTIONS:-64}" -d"${warmup}s" -s stripe-webhooks.lua "$base") > "$work/warmup-webhooks.log" 2>&1 || true
    left='?'
    for waited in $(seq 0 120); do
      left=$(stripe_unapplied "$TF_DB_ADMIN_URL") || left='?'
      [ "$left" = 0 ] && break
      sleep 1
    done
    # Measuring on top of an unapplied backlog would measure the backlog: stop instead.
    [ "$left" = 0 ] || { echo "warm-up's webhook events not applied after ${waited}s ($left left)" >&2; exit 1; }
    echo "   warm-up's events applied ${waited}s after it"
  fi
  if [ "$sim" = DocumentSimulation ]; then
    # The ciphers, the multipart decoder and the file paths are compiled only by transfers.
    echo "== warm-up: DocumentSimulation ${warmup}s, 2 users (assertions ignored)"
    gatling DocumentSimulation -Dseconds="$warmup" -Dusers=2 -Dfile=target/document.jpg \
      -Dgatling.http.requestTimeout=300000 > "$work/warmup-documents.log" 2>&1 || true
  fi
fi

# Statistics as a running database has them: the tables were empty when the warm-up's statements
# were first planned, and PostgreSQL keeps those plans (a scan of an empty table) in each pooled
# connection until ANALYZE invalidates them; autovacuum gets there a minute or so into a run, or not.
psql -q "$TF_DB_ADMIN_URL" -c ANALYZE
heap_before=$(heap_mib)
[ "${MEMORY:-0}" = 1 ] && heap_gc_before=$(heap_after_gc)
live_sampler=""
if [ "$sim" = DocumentSimulation ]; then
  live_before=$(live_heap_mib)
  ( while kill -0 "$jvm" 2>/dev/null; do sleep "${LIVE_EVERY:-5}"; live_heap_mib; echo; done ) > "$work/live.txt" 2>/dev/null &
  live_sampler=$!
fi
cpu_before=$(ticks)
# Heap and RSS every second during the run
( while kill -0 "$jvm" 2>/dev/null; do echo "$(heap_mib) $(rss_mib)"; sleep 1; done ) > "$work/samples.txt" 2>/dev/null &
sampler=$!

echo "== $sim for ${secs}s"
status=0
extra=()
case $sim in
  StripeWebhookSimulation) extra=(-DwebhookSecret="$TF_STRIPE_WEBHOOK_SECRET" -DsentIds="$work/stripe-sent-ids.txt") ;;
  DocumentSimulation) extra=(-Dfile=target/document.jpg -Dgatling.http.requestTimeout=300000) ;;
  MixedSimulation) extra=(-DmixedFile=target/mixed.jpg) ;;
esac
if [ "${GENERATOR:-gatling}" = wrk ]; then
  # The same requests from wrk, which leaves the server more of the two cores than Gatling does
  # (Gatling's own CPU at these rates is a third of them), with the simulation's target and the
  # same post-run check.
  case $sim in
    StripeWebhookSimulation)
      # Enough deliveries for 6,000 a second; the sent ones are each thread's first lines (its
      # count in sent.txt).
      python3 load-tests/stripe-deliveries.py $((secs * 6000)) "$TF_STRIPE_WEBHOOK_SECRET" "$work/deliveries.tsv"
      script=stripe-webhooks.lua; target=3000 ;;
    RefreshSimulation) script=refresh-tokens.lua; target=5000 ;;
    CreateInvoiceSimulation) script=create-invoices.lua; target=3000 ;;
    SignInSimulation) script=sign-ins.lua; target=${MIN_RATE:-0} ;;
  esac
  [ "$sim" = SignInSimulation ] && connections=${CONNECTIONS:-8} || connections=${CONNECTIONS:-64}
  (cd load-tests && TOKENS="$tokens" DELIVERIES="$work/deliveries.tsv" SENT="$work/sent.txt" THREADS=2 \
    wrk -t2 -c"$connections" -d"${secs}s" --latency -s "$script" "$base") > "$work/gatling.log" 2>&1 || status=$?
  if [ "$sim" = StripeWebhookSimulation ]; then
    awk -F'\t' -v T=2 'NR == FNR { made[$1 + 0] = $2; next }
      { t = (FNR - 1) % T; if (++k[t] <= made[t] && !seen[$1]++) print $1 }' \
      <(tr ' ' '\t' < "$work/sent.txt") "$work/deliveries.tsv" > "$work/stripe-sent-ids.txt"
  fi
  # Sign-ins answer unknown emails 401 by design: sign-ins.lua counts the answers of each kind.
  [ "$sim" = SignInSimulation ] && wrong='wrong answers [1-9]' || wrong='Non-2xx'
  grep -qE "$wrong|Socket errors|families lost [1-9]" "$work/gatling.log" && status=1
  awk -v t="$target" '$1 == "Requests/sec:" && $2 < t { exit 1 }' "$work/gatling.log" || status=1
else
  gatling "$sim" -Dseconds="$secs" "${extra[@]}" ${GATLING:-} > "$work/gatling.log" 2>&1 || status=$?
fi
cpu_after=$(ticks)
kill "$sampler" 2>/dev/null || true
[ -n "$live_sampler" ] && { kill "$live_sampler" 2>/dev/null || true; }

echo "== figures ($sim, ${secs}s; full log $work/gatling.log)"
report=$(ls -dt load-tests/target/gatling/*/ 2>/dev/null | head -1 || true)
if [ "${GENERATOR:-gatling}" != wrk ] && [ -n "$report" ] && [ -f "$report/js/stats.js" ]; then
  python3 load-tests/gatling-stats.py "$report/js/stats.js"
  echo "report: $report/index.html"
fi
requests=$(python3 load-tests/gatling-stats.py --count "$report/js/stats.js" 2>/dev/null || echo 0)
if [ "${GENERATOR:-gatling}" = wrk ]; then
  grep -E 'Requests/sec|requests in|Latency|Non-2xx|Socket errors|^ +(50|75|90|99)%|sign-ins:|wrong answers' "$work/gatling.log"
  requests=$(awk '/requests in/ { print $1 }' "$work/gatling.log")
fi
[ "$requests" -gt 0 ] 2>/dev/null && awk -v t=$((cpu_after - cpu_before)) -v n="$requests" -v hz="$(getconf CLK_TCK)" \
  'BEGIN { printf "server CPU: %.3f ms per request (%d requests)\n", t * 1000 / hz / n, n }'
grep -E '^(Global|Request|Details).*: (true|false)|Assertion' "$work/gatling.log" || true
awk -v b="$heap_before" '{ if ($1 > h) h = $1; if ($2 > r) r = $2 } END {
  printf "server heap used: %.1f MiB before, peak %.1f MiB during (growth %.1f MiB); peak RSS %.1f MiB\n", b, h, h - b, r }' \
  "$work/samples.txt"

echo "== post-run checks"
case $sim in
  CreateInvoiceSimulation)
    numbers=$(psql "$TF_DB_ADMIN_URL" -f load-tests/check-invoice-numbers.sql) || status=1
    echo "$numbers" | tail -3
    grep -q 'GAP-FREE: every account' <<< "$numbers" || status=1 ;;
  StripeWebhookSimulation)
    RUN_SECONDS=$secs load-tests/check-stripe-events.sh "$work/stripe-sent-ids.txt" || status=1 ;;
  DocumentSimulation)
    # Live heap (after a forced GC) at each sample during the transfers, against the same before them.
    read -r samples peak < <(awk '$1 ~ /^[0-9.]+$/ { n++; if ($1 > p) p = $1 } END { printf "%d %.1f\n", n, p }' "$work/live.txt")
    growth=$(awk -v b="$live_before" -v p="$peak" 'BEGIN { printf "%.1f", p - b }')
    echo "live heap (after a forced GC): $live_before MiB before, peak $peak MiB over $samples samples during the run"
    echo "live heap growth during ten concurrent transfers: $growth MiB (target < 16 MiB): $(awk -v g="$growth" -v n="$samples" 'BEGIN { print (n > 0 && g < 16 ? "met" : "MISSED") }')"
    awk -v g="$growth" -v n="$samples" 'BEGIN { exit !(n > 0 && g < 16) }' || status=1
    echo "blocked-thread warnings: $(grep -c 'Thread blocked' "$work/server.log" || true)" ;;
esac
if [ "${MEMORY:-0}" = 1 ]; then
  heap_gc_after=$(heap_after_gc)
  awk -v a="$heap_gc_before" -v b="$heap_gc_after" 'BEGIN {
    printf "heap after GC: %.1f MiB before the run, %.1f MiB after (%+.1f %%; target within 10 %%)\n", a, b, (b - a) * 100 / a }'
  [ -n "$cgroup" ] && awk '{ printf "cgroup peak memory (RSS + page cache): %.1f MiB of 1024\n", $1 / 1048576 }' "$cgroup/memory.max_usage_in_bytes"
  echo "RSS now: $(rss_mib) MiB (target under list load < 512 MiB)"
fi
[ "$status" = 0 ] && echo "== $sim: assertions met" || echo "== $sim: FAILED (exit $status): see $work/gatling.log" >&2
exit "$status"
