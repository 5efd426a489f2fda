# Sourced by the load-test scripts that start a server of their own (run.sh, stripe-drain.sh,
# document-transfer.sh): waits for it and finds the JVM listening on its port.
#   await_server <pid> <log> <port>   sets jvm to the listening process, or exits 1 with the log's tail
# Also by check-stripe-events.sh, for the one function it shares with them:
#   stripe_unapplied <admin url>       how many Stripe events are stored and not yet applied
await_server() {
  local pid=$1 log=$2 port=$3
  for _ in $(seq 1 120); do
    grep -q "TradersFlow started" "$log" && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 1
  done
  if ! grep -q "TradersFlow started" "$log"; then
    echo "server did not start" >&2; tail -20 "$log" >&2; exit 1
  fi
  # The listener, not $pid: run.sh's memory mode starts java through a wrapper shell.
  jvm=$(ss -Hltnp "sport = :$port" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
}

# Stripe events stored and not yet applied (pending, or claimed and being applied) in the database
# at $1: what a run waits on before it measures or checks (run.sh, stripe-drain.sh, check-stripe-events.sh).
stripe_unapplied() {
  psql "$1" -Atc "SELECT count(*) FROM stripe_events WHERE status IN ('pending', 'processing')"
}
