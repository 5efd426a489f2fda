#!/usr/bin/env bash
# After StripeWebhookSimulation: counts in the database that each distinct event the simulation
# sent (ids in the file it wrote) was stored once and handled once: one row per id, out of
# 'pending'/'processing' once the worker has caught up (waits up to 120 s), and claimed exactly
# once (attempts = 1). Exits non-zero when any event is missing, unhandled or handled twice.
#   load-tests/check-stripe-events.sh [ids=load-tests/target/stripe-sent-ids.txt]
# Needs TF_DB_ADMIN_URL (as exported for the server), e.g. postgresql://postgres@127.0.0.1:5432/tf_load
set -euo pipefail
ids=${1:-$(dirname "$0")/target/stripe-sent-ids.txt}
db=${TF_DB_ADMIN_URL:?set TF_DB_ADMIN_URL}
for _ in $(seq 1 120); do
  left=$(psql "$db" -Atc "SELECT count(*) FROM stripe_events WHERE status IN ('pending', 'processing')")
  [ "$left" = 0 ] && break
  sleep 1
done
psql "$db" -v ON_ERROR_STOP=1 -At <<SQL
CREATE TEMP TABLE sent (id text PRIMARY KEY);
\copy sent FROM '$ids'
SELECT format('stripe events: %s distinct sent; %s stored; %s handled (processed or ignored); %s still pending; %s claimed more than once; %s stored but never sent',
              (SELECT count(*) FROM sent),
              count(e.id), count(*) FILTER (WHERE e.status IN ('processed', 'ignored')),
              count(*) FILTER (WHERE e.status IN ('pending', 'processing', 'failed')),
              count(*) FILTER (WHERE e.attempts > 1),
              (SELECT count(*) FROM stripe_events x WHERE x.id LIKE 'evt_load%' AND NOT EXISTS (SELECT 1 FROM sent s WHERE s.id = x.id)))
  FROM sent s LEFT JOIN stripe_events e ON e.id = s.id;
SELECT CASE WHEN count(*) = count(e.id) AND bool_and(e.status IN ('processed', 'ignored') AND e.attempts = 1)
            THEN 'EXACTLY ONCE: every event sent was stored once and handled once'
            ELSE 'NOT EXACTLY ONCE' END
  FROM sent s LEFT JOIN stripe_events e ON e.id = s.id;
SQL
bad=$(psql "$db" -At <<SQL
CREATE TEMP TABLE sent (id text PRIMARY KEY);
\copy sent FROM '$ids'
SELECT count(*) FROM sent s LEFT JOIN stripe_events e ON e.id = s.id
 WHERE e.id IS NULL OR e.status NOT IN ('processed', 'ignored') OR e.attempts <> 1;
SQL
)
bad=$(echo "$bad" | tail -1)
[ "$bad" = 0 ] || { echo "FAILED: $bad events not handled exactly once" >&2; exit 1; }
