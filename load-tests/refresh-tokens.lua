-- wrk's version of RefreshSimulation: POST /api/v1/auth/refresh, each answer's new refresh token
-- presented next, no token presented twice (a spent one presented again, after the grace period,
-- would end its family and fail with 401). Thread t of THREADS (wrk -t, 2 by default) takes the
-- families on lines t+2, t+2+THREADS, … of TOKENS (LoadSeed's csv: token,refreshToken) and keeps
-- their current tokens in a queue: a request takes the oldest, its answer puts the successor at
-- the end. A thread needs more families than connections (wrk -c / -t), so the queue never runs dry.
--   TOKENS=run-tokens.csv wrk -t2 -c64 -d30s --latency -s refresh-tokens.lua https://127.0.0.1:18443
local share = require("wrk-share")
setup = share.setup

function init(args)
  queue, first, last, lost = {}, 1, 0, 0
  for _, line in ipairs(share.lines(os.getenv("TOKENS"), 1)) do
    last = last + 1
    queue[last] = line:match(",([^,]+)$")
  end
  headers = { ["Content-Type"] = "application/json", ["Accept"] = "application/json" }
end

function request()
  if share.verifying() then
    -- Not sent: the oldest token stays in the queue.
    return wrk.format("POST", "/api/v1/auth/refresh", headers, '{"refreshToken":"' .. queue[first] .. '"}')
  end
  if first > last then
    error("thread " .. index .. " has no refresh token left: give it more families than connections")
  end
  local token = queue[first]
  queue[first] = nil
  first = first + 1
  return wrk.format("POST", "/api/v1/auth/refresh", headers, '{"refreshToken":"' .. token .. '"}')
end

function response(status, headers, body)
  local successor = status == 200 and body:match('"refreshToken":"([^"]+)"')
  if successor then
    last = last + 1
    queue[last] = successor
  else
    lost = lost + 1
  end
end

function done(summary, latency, requests)
  for _, thread in ipairs(share.threads()) do
    print("thread " .. thread:get("index") .. ": families lost " .. thread:get("lost"))
  end
end
