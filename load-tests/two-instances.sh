#!/usr/bin/env bash
# Two server processes behind HAProxy (conf/haproxy), a mixed load through the balancer, one
# instance killed with SIGKILL mid-run and restarted, the other stopped with SIGTERM (a rolling
# deploy) and restarted; then everything is counted in PostgreSQL and the SMTP sink, the compared
# counts printed, and the last line is `lost N, duplicated M`. Exits 0 only when nothing was lost
# or duplicated, no GET failed, nothing failed during the rolling deploy, invoice numbers are
# gap-free per account, sign-out-everywhere held on both instances within 1 s, and a lockout
# counted wrong passwords split across both instances.
#   load-tests/two-instances.sh [seconds=60] [--no-rolling]
# Needs: PostgreSQL on 127.0.0.1:5432 (trust for postgres, as the README's machine), Redis on
# 127.0.0.1:6379, the `haproxy` binary (apt-get install -y haproxy). Runs in a database of its
# own (tf_two_<time>, created by the first instance, dropped at exit) and a Redis key prefix of
# its own (deleted at exit). SMTP sink (GreenMail) and the load generator run in the driver's JVM
# (uk.co.tradersflow.loadtest.TwoInstances, test code); logs under load-tests/target/two-instances/.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
command -v haproxy >/dev/null || { echo "haproxy is not installed: apt-get install -y haproxy" >&2; exit 2; }

if [ ! -f target/tradersflow.jar ] || [ ! -f target/test-classes/uk/co/tradersflow/loadtest/TwoInstances.class ]; then
  mvn -B -q -DskipTests package
fi
cp_file=target/two-instances.classpath
if [ ! -s "$cp_file" ] || [ pom.xml -nt "$cp_file" ]; then
  mvn -B -q -o dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$cp_file" \
    || mvn -B -q dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$cp_file"
fi

run=$(date +%s)
db=tf_two_$run
prefix=tf-two-$run:
export TF_DB_ADMIN_URL=${TF_DB_ADMIN_URL_BASE:-postgresql://postgres@127.0.0.1:5432}/$db
export TF_DB_URL=${TF_DB_URL_BASE:-postgresql://tf_app@127.0.0.1:5432}/$db
export TF_REDIS_URL=${TF_REDIS_URL:-redis://127.0.0.1:6379}
export TF_REDIS_KEY_PREFIX=$prefix
work=load-tests/target/two-instances
rm -rf "$work" && mkdir -p "$work"
cleanup() {
  psql "${TF_DB_ADMIN_URL_BASE:-postgresql://postgres@127.0.0.1:5432}/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  redis-cli -u "$TF_REDIS_URL" --scan --pattern "$prefix*" 2>/dev/null | xargs -r -n 500 redis-cli -u "$TF_REDIS_URL" DEL >/dev/null 2>&1 || true
}
trap cleanup EXIT

java -Xmx512m -DworkDir="$work" -cp "target/tradersflow.jar:target/test-classes:$(cat "$cp_file")" \
  uk.co.tradersflow.loadtest.TwoInstances "$secs" "$@"
