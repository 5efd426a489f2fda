-- wrk's version of StripeWebhookSimulation: POST /webhooks/stripe with the deliveries that
-- stripe-deliveries.py wrote (DELIVERIES), each signed, one in five a redelivery. Thread t of
-- THREADS (wrk -t, 2 by default) sends lines t+1, t+1+THREADS, … in order, built once at start
-- so each request costs wrk nothing but the send. At the end, SENT (a file) gets each thread's
-- count of requests made: the deliveries sent are exactly those first lines of each thread's
-- share (all of it, if the count passes it), which is how the run's ids are known for the database check (check-stripe-events.sh).
--   DELIVERIES=d.tsv SENT=sent.txt wrk -t2 -c64 -d30s --latency -s stripe-webhooks.lua https://127.0.0.1:18443
local share = require("wrk-share")
setup = share.setup

function init(args)
  requests_, made = {}, 0
  for _, line in ipairs(share.lines(os.getenv("DELIVERIES"))) do
    local _, signature, body = line:match("^([^\t]+)\t([^\t]+)\t(.*)$")
    requests_[#requests_ + 1] = wrk.format("POST", "/webhooks/stripe",
      { ["Stripe-Signature"] = signature, ["Content-Type"] = "application/json" }, body)
  end
end

-- Past the end of its share a thread starts over: those are redeliveries too (all already sent).
function request()
  if share.verifying() then
    return requests_[1]
  end
  made = made + 1
  return requests_[(made - 1) % #requests_ + 1]
end

function done(summary, latency, requests)
  local f = io.open(os.getenv("SENT"), "w")
  for _, thread in ipairs(share.threads()) do
    f:write(thread:get("index"), " ", thread:get("made"), "\n")
  end
  f:close()
end
