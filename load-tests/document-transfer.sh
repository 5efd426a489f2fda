#!/usr/bin/env bash
# Large documents through one server, with curl over HTTPS on loopback. Run from the repository root:
#
#   load-tests/document-transfer.sh                  # 50 MiB file: 3 single transfers, then 10 at once
#   PORT=22643 TF_LOAD_DB=tf_load_docs RUNS=5 CONCURRENT=10 MIB=50 HEAP=256m load-tests/document-transfer.sh
#
# 1. RUNS single transfers, one after another: each upload and download's speed as curl reports it
#    (bytes / seconds), and whether the bytes came back identical. The first run is JIT-cold.
# 2. CONCURRENT uploads then downloads of the same file at once, while the server's live heap is
#    sampled every SAMPLE_EVERY (3) seconds: a full GC (jcmd GC.run), then the old generation's occupancy (jstat's
#    OU), which after a full GC is every live object and no garbage. Growth = the highest sample
#    minus the sample before the transfers (target for ten 50 MiB transfers: < 16 MiB). A peak of
#    heap *used* (jstat without a GC, or /metrics) counts uncollected garbage and says nothing here.
# It uses its own database (TF_LOAD_DB, dropped and recreated), Redis prefix and ports (PORT and
# PORT-1), and prints the host's load average (each sample starts jcmd and jstat, two small JVMs): on a shared host the speeds are only comparable
# within one sitting. Exits non-zero when bytes differ or a request fails.
set -euo pipefail
cd "$(dirname "$0")/.."
. load-tests/server-start.sh
HEAP=${HEAP:-256m}
MIB=${MIB:-50}
RUNS=${RUNS:-3}
CONCURRENT=${CONCURRENT:-10}
port=${PORT:-18443}
db=${TF_LOAD_DB:-tf_load}
WORK=$(mktemp -d)
server=""; sampler=""
cleanup() {
  [ -n "$sampler" ] && kill "$sampler" 2>/dev/null || true
  if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then kill "$server"; wait "$server" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
export TF_HTTPS_PORT=$port TF_HTTP_PORT=$((port - 1)) TF_PUBLIC_URL=https://127.0.0.1:$port \
       TF_DB_URL=postgresql://tf_app@127.0.0.1:5432/$db \
       TF_DB_ADMIN_URL=postgresql://postgres@127.0.0.1:5432/$db \
       TF_REDIS_KEY_PREFIX="tfload:docs:$(date +%s):" TF_DEV_DATA_DIR="$WORK/dev" TF_STORAGE_DIR="$WORK/files" \
       TF_API_RATE_PER_SECOND=1000 TF_API_BURST=2000 TF_ACCESS_TOKEN_TTL_SECONDS=3600 \
       TF_UPLOAD_MAX_BYTES=$(( (MIB + 1) * 1024 * 1024 ))
base=https://127.0.0.1:$port

if ss -Hltn "sport = :$port" | grep -q .; then echo "port $port is in use: set PORT" >&2; exit 2; fi
[ "${BUILD:-1}" != 0 ] && mvn -B -q -o -DskipTests package
psql -q "postgresql://postgres@127.0.0.1:5432/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
java -Xmx"$HEAP" ${JAVA_OPTS:-} -jar target/tradersflow.jar > "$WORK/server.log" 2>&1 &
server=$!
await_server "$server" "$WORK/server.log" "$port"
java -cp target/tradersflow.jar:target/test-classes uk.co.tradersflow.loadtest.LoadSeed "$CONCURRENT" 1 "$WORK/tokens.csv" > /dev/null
( printf '\xff\xd8\xff\xe0'; head -c $(( MIB * 1024 * 1024 - 4 )) /dev/urandom ) > "$WORK/file.jpg"
token() { sed -n "$(( $1 + 2 ))p" "$WORK/tokens.csv" | tr -d '\r'; }

# upload <user> <tag>: prints curl's upload speed (bytes/s); leaves the document id in $WORK/<tag>.id
upload() {
  curl -sk --fail -o "$WORK/$2.json" -w '%{speed_upload}' -H "Authorization: Bearer $(token "$1")" \
    -F "file=@$WORK/file.jpg;type=image/jpeg" "$base/api/v1/documents"
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$WORK/$2.json" > "$WORK/$2.id"
}
# download <user> <tag>: prints curl's download speed (bytes/s); the body goes to $WORK/<tag>.down
download() {
  local url
  url=$(curl -sk --fail -H "Authorization: Bearer $(token "$1")" "$base/api/v1/documents/$(cat "$WORK/$2.id")/url" \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)["url"])')
  curl -sk --fail -o "$WORK/$2.down" -w '%{speed_download}' "${url/localhost/127.0.0.1}"
}
remove() { curl -sk --fail -o /dev/null -X DELETE -H "Authorization: Bearer $(token "$1")" "$base/api/v1/documents/$(cat "$WORK/$2.id")"; }
same() { cmp -s "$WORK/file.jpg" "$WORK/$1.down" && echo identical || { echo DIFFERENT; failed=1; }; }
failed=0

echo "== $RUNS single ${MIB} MiB transfers (curl's speeds; the first is JIT-cold)"
for run in $(seq 1 "$RUNS"); do
  up=$(upload 0 single); down=$(download 0 single)
  awk -v r="$run" -v u="$up" -v d="$down" -v s="$(same single)" -v l="$(cut -d' ' -f1-3 /proc/loadavg)" \
    'BEGIN { printf "run %d: upload %.0f MiB/s, download %.0f MiB/s, bytes %s (load %s)\n", r, u / 1048576, d / 1048576, s, l }'
  remove 0 single; rm -f "$WORK/single.down"
done

live_heap_mib() { jcmd "$server" GC.run > /dev/null; jstat -gc "$server" | awk 'NR == 2 { printf "%.1f\n", $8 / 1024 }'; }
echo "== $CONCURRENT concurrent ${MIB} MiB uploads, then downloads, live heap sampled every ${SAMPLE_EVERY:-3} s"
before=$(live_heap_mib)
( while true; do sleep "${SAMPLE_EVERY:-3}"; live_heap_mib; done ) > "$WORK/live.txt" 2>/dev/null &
sampler=$!
start=$(date +%s.%N)
# all <upload|download>: runs it for every user at once and waits for each
all() {
  local pids=()
  for i in $(seq 0 $(( CONCURRENT - 1 ))); do "$1" "$i" "c$i" > "$WORK/c$i.$1" & pids+=($!); done
  for p in "${pids[@]}"; do wait "$p" || failed=1; done
}
all upload
mid=$(date +%s.%N)
all download
end=$(date +%s.%N)
kill "$sampler" 2>/dev/null || true; sampler=""
for i in $(seq 0 $(( CONCURRENT - 1 ))); do [ "$(same "c$i")" = identical ] || failed=1; rm -f "$WORK/c$i.down"; done
awk -v n="$CONCURRENT" -v m="$MIB" -v a="$start" -v b="$mid" -v c="$end" \
  'BEGIN { printf "all %d uploads %.1f s (%.0f MiB/s together), all downloads %.1f s (%.0f MiB/s together)\n", n, b - a, n * m / (b - a), c - b, n * m / (c - b) }'
awk -v b="$before" '$1 ~ /^[0-9.]+$/ { n++; if ($1 > p) p = $1 } END {
  printf "live heap after GC: %.1f MiB before, peak %.1f MiB over %d samples: growth %.1f MiB (target < 16 MiB)\n", b, p, n, p - b }' "$WORK/live.txt"
echo "blocked-thread warnings: $(grep -c 'Thread blocked' "$WORK/server.log" || true); load: $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$failed" = 0 ] || { echo "a transfer failed or its bytes differ" >&2; exit 1; }
