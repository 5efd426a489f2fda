-- Requests carrying forged access tokens, the cheapest attack on an API's CPU: each token is
-- spelt as the server spells its own (our kid, canonical base64url, a low-S signature), so it
-- passes every check before the signature's and costs the server a full ECDSA verification;
-- being invalid, it is never cached. Each is one seeded token's header and claims with another
-- seeded token's signature (TOKENS: the seeder's tokens.csv), a different pair for every
-- request until the pairs run out. Every answer must be 401; done() prints the rate and
-- "wrong answers N" for any other.
--   TOKENS=tokens.csv wrk -t2 -c64 -d30s --latency -s forged-tokens.lua https://127.0.0.1:18443
local share = require("wrk-share")
setup = share.setup

function init(args)
  signed, signatures, sent, refused, wrong = {}, {}, 0, 0, 0
  for _, line in ipairs(share.lines(os.getenv("TOKENS"), 1, true)) do
    local input, signature = line:match("^([^,]+)%.([^.,]+)")
    signed[#signed + 1] = input
    signatures[#signatures + 1] = signature
  end
  path = os.getenv("WRK_PATH") or "/api/v1/me"
end

function request()
  sent = sent + 1
  local n = #signed
  -- Thread t takes every pair (i, i + k) with k = 1 .. n - 1 in its own order: no two requests
  -- of a thread carry the same forged token within n * (n - 1) requests.
  local i = (sent + index * 7919) % n + 1
  local k = math.floor(sent / n) % (n - 1) + 1
  local forged = signed[i] .. "." .. signatures[(i + k - 1) % n + 1]
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. forged, ["Accept"] = "application/json" })
end

function response(status, headers, body)
  if status == 401 then
    refused = refused + 1
  else
    wrong = wrong + 1
  end
end

function done(summary, latency, requests)
  local r, w = 0, 0
  for _, thread in ipairs(share.threads()) do
    r, w = r + thread:get("refused"), w + thread:get("wrong")
  end
  print(string.format("forged tokens refused (401): %d in %.1f s: %.1f/s", r, summary.duration / 1e6,
    r / (summary.duration / 1e6)))
  print("wrong answers " .. w)
end
