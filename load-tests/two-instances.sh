#!/usr/bin/env bash
# Two server processes behind HAProxy (conf/haproxy), Gatling's MixedSimulation through the
# balancer (lists, /me, invoice creates, sign-ins, uploads), beside it the driver's invoice sends
# (emails) and signed Stripe webhooks each redelivered as a duplicate; one instance killed with
# SIGKILL mid-run and restarted, the other stopped with SIGTERM (a rolling deploy) and restarted,
# both while Gatling runs; then everything is counted in PostgreSQL, the SMTP sink, Gatling's
# report and HAProxy's log, the compared counts printed, and the last line is `lost N, duplicated M`.
# Exits 0 only when nothing was lost or duplicated, no GET failed (HAProxy retried them), the only
# failed requests (Gatling's or the driver's) were POSTs in flight on the killed instance, nothing
# failed during the rolling deploy, invoice numbers are gap-free per account
# (load-tests/check-invoice-numbers.sql), sign-out-everywhere and a suspension refused tokens on
# both instances within 1 s, a lockout counted wrong passwords split across both instances, and
# the password-reset mail cap counted requests split across both.
#   load-tests/two-instances.sh [seconds=60] [--no-rolling] [--java-load]
# --java-load: the driver's own reads and sign-ins instead of Gatling (what BehindHaproxyTest runs).
# Environment: USERS=4 Gatling users (closed model without pauses: more starve a restarting
# instance of two cores); FIRST_PORT=21200: SMTP, the two servers and HAProxy take the eight
# ports from there.
# Needs: PostgreSQL on 127.0.0.1:5432 (trust for postgres, as the README's machine), Redis on
# 127.0.0.1:6379, the `haproxy` binary (apt-get install -y haproxy), Maven with Gatling resolved
# (load-tests/pom.xml). Runs in a database of its own (tf_two_<time>, created by the first
# instance, dropped at exit) and a Redis key prefix of its own (deleted at exit). SMTP sink
# (GreenMail) and the driver run in one JVM (uk.co.tradersflow.loadtest.TwoInstances, test code),
# Gatling in `mvn gatling:test`; logs under load-tests/target/two-instances/.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
command -v haproxy >/dev/null || { echo "haproxy is not installed: apt-get install -y haproxy" >&2; exit 2; }

if [ ! -f target/tradersflow.jar ] || [ ! -f target/test-classes/uk/co/tradersflow/loadtest/TwoInstances.class ]; then
  mvn -B -q -DskipTests package
fi
sims=load-tests/target/test-classes/tradersflow
if [ ! -f "$sims/MixedSimulation.class" ] || [ -n "$(find load-tests/src -newer "$sims/MixedSimulation.class" -type f)" ]; then
  (cd load-tests && mvn -B -q -o test-compile)
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

java -Xmx512m -DworkDir="$work" -Dusers="${USERS:-4}" -DfirstPort="${FIRST_PORT:-21200}" -cp "target/tradersflow.jar:target/test-classes:$(cat "$cp_file")" \
  uk.co.tradersflow.loadtest.TwoInstances "$secs" "$@"
