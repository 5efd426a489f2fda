#!/usr/bin/env bash
# After StripeWebhookSimulation: counts in the database that each distinct event the simulation
# sent (ids in the file it wrote) was stored once and handled once: one row per id, out of
# 'pending'/'processing' once the worker has caught up (waits up to 120 s), and claimed exactly
# once (attempts = 1). Exits non-zero when any event is missing, unhandled or handled twice.
#   load-tests/check-stripe-events.sh [ids=load-tests/target/stripe-sent-ids.txt]
# Needs TF_DB_ADMIN_URL (as exported for the server), e.g. postgresql://postgres@127.0.0.1:5432/tf_load
set -euo pipefail
. "$(dirname "$0")/server-start.sh"
ids=${1:-$(dirname "$0")/target/stripe-sent-ids.txt}
db=${TF_DB_ADMIN_URL:?set TF_DB_ADMIN_URL}
waited=0
while :; do
  left=$(stripe_unapplied "$db")
  [ "$left" = 0 ] && break
  [ "$waited" -ge 120 ] && { echo "still $left events unhandled after ${waited}s"; break; }
  [ $((waited % 10)) = 0 ] && echo "waiting for the worker: $left events pending or processing after ${waited}s"
  sleep 1; waited=$((waited + 1))
done
[ "$waited" -gt 0 ] && echo "the worker caught up ${waited}s after the run (or gave up waiting)"
if [ -n "${RUN_SECONDS:-}" ]; then
  handled=$(psql "$db" -Atc "SELECT count(*) FROM stripe_events WHERE id LIKE 'evt_load%' AND status IN ('processed', 'ignored')")
  awk -v n="$handled" -v r="$RUN_SECONDS" -v w="$waited" \
    'BEGIN { printf "applied: %d events in the %d s run + %d s after it = %.0f events/s applied\n", n, r, w, n / (r + w) }'
fi
# Every id accepted must be stored; every stored load event (accepted ones, and any whose 200 the
# run's end cut off before Gatling recorded it) handled once.
result=$(psql "$db" -v ON_ERROR_STOP=1 -At <<SQL
CREATE TEMP TABLE sent (id text PRIMARY KEY);
\copy sent FROM '$ids'
SELECT format('stripe events: %s distinct accepted (200) by the run; %s of them stored; %s load events stored in all; '
              '%s handled once (processed or ignored, one claim); %s not handled; %s claimed more than once',
              (SELECT count(*) FROM sent),
              (SELECT count(*) FROM sent s JOIN stripe_events e USING (id)),
              count(*), count(*) FILTER (WHERE status IN ('processed', 'ignored') AND attempts = 1),
              count(*) FILTER (WHERE status NOT IN ('processed', 'ignored')),
              count(*) FILTER (WHERE attempts > 1))
  FROM stripe_events WHERE id LIKE 'evt_load%';
SELECT (SELECT count(*) FROM sent s WHERE NOT EXISTS (SELECT 1 FROM stripe_events e WHERE e.id = s.id))
     + (SELECT count(*) FROM stripe_events WHERE id LIKE 'evt_load%'
          AND NOT (status IN ('processed', 'ignored') AND attempts = 1));
SQL
)
echo "$result" | head -n -1
bad=$(echo "$result" | tail -1)
if [ "$bad" = 0 ]; then
  echo "EXACTLY ONCE: every event accepted was stored, and every stored event handled exactly once"
else
  echo "NOT EXACTLY ONCE: $bad events missing, unhandled or handled twice" >&2
  exit 1
fi
