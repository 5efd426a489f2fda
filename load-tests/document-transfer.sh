#!/usr/bin/env bash
# Uploads and downloads one large document (default 50 MiB) through a server started with a
# capped heap, three times, and reports each transfer's time, whether the bytes came back
# identical, and the peak heap used (jstat samples every 100 ms). Run from the repository root:
#
#   load-tests/document-transfer.sh            # 50 MiB file, -Xmx64m
#   HEAP=44m MIB=50 load-tests/document-transfer.sh
#
# It uses its own database (tf_load), Redis prefix and ports, like the Gatling simulation.
set -euo pipefail
HEAP=${HEAP:-64m}
MIB=${MIB:-50}
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
export TF_HTTPS_PORT=18443 TF_HTTP_PORT=18080 TF_PUBLIC_URL=https://localhost:18443 \
       TF_DB_URL=postgresql://tf_app@127.0.0.1:5432/tf_load \
       TF_DB_ADMIN_URL=postgresql://postgres@127.0.0.1:5432/tf_load \
       TF_REDIS_KEY_PREFIX=tfload: TF_DEV_DATA_DIR=/tmp/tf-load-dev TF_STORAGE_DIR="$WORK/files" \
       TF_UPLOAD_MAX_BYTES=$(( (MIB + 1) * 1024 * 1024 ))

mvn -q -DskipTests package
java -Xmx"$HEAP" -jar target/tradersflow.jar > "$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 60); do grep -q "started" "$WORK/server.log" && break; sleep 1; done
java -cp target/tradersflow.jar:target/test-classes uk.co.tradersflow.loadtest.LoadSeed 1 1 "$WORK/token.csv" > /dev/null
TOKEN=$(tail -1 "$WORK/token.csv" | tr -d '\r')
( printf '\xff\xd8\xff\xe0'; head -c $(( MIB * 1024 * 1024 - 4 )) /dev/urandom ) > "$WORK/file.jpg"

jstat -gc "$SERVER" 100 > "$WORK/jstat.log" &
for run in 1 2 3; do
  up=$(curl -sk -o "$WORK/up.json" -w '%{time_total}' -H "Authorization: Bearer $TOKEN" \
       -F "file=@$WORK/file.jpg;type=image/jpeg" https://localhost:18443/api/v1/documents)
  id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$WORK/up.json")
  url=$(curl -sk -H "Authorization: Bearer $TOKEN" "https://localhost:18443/api/v1/documents/$id/url" \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)["url"])')
  down=$(curl -sk -o "$WORK/down.jpg" -w '%{time_total}' "$url")
  same=$(cmp -s "$WORK/file.jpg" "$WORK/down.jpg" && echo identical || echo DIFFERENT)
  awk -v r="$run" -v m="$MIB" -v u="$up" -v d="$down" -v s="$same" \
    'BEGIN { printf "run %d: upload %.2f s (%.0f MiB/s), download %.2f s (%.0f MiB/s), bytes %s\n", r, u, m/u, d, m/d, s }'
done
awk 'NR > 1 && $1 ~ /^[0-9.]+$/ { used = $3 + $4 + $6 + $8; if (used > peak) peak = used }
     END { printf "peak heap used: %.1f MiB (heap capped at '"$HEAP"')\n", peak / 1024 }' "$WORK/jstat.log"
echo "blocked-thread warnings: $(grep -c 'Thread blocked' "$WORK/server.log" || true)"
