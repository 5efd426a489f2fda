-- wrk's version of SignInSimulation without the list beside it (sign-ins alone, the figure compared
-- with run-argon2.sh's raw rate): POST /api/v1/auth/login, a seeded user's right password and an
-- unknown email in turn (LoadSeed … --login: TOKENS is its csv, token,email,password). A known email
-- must answer 200 with a refresh token, an unknown one 401; wrk cannot tell which request an answer
-- belongs to, so each thread counts both kinds sent and answered, and done() prints the counts and
-- every answer that is neither (a "wrong answers" line that must say 0).
--   TOKENS=tokens.csv wrk -t2 -c8 -d30s --latency -s sign-ins.lua https://127.0.0.1:18443
local share = require("wrk-share")
setup = share.setup

function init(args)
  users, sent, known, unknown, wrong = {}, 0, 0, 0, 0
  for _, line in ipairs(share.lines(os.getenv("TOKENS"), 1)) do
    local email, password = line:match(",([^,]+),([^,]+)$")
    users[#users + 1] = { email = email, password = password }
  end
  headers = { ["Content-Type"] = "application/json", ["Accept"] = "application/json" }
end

function request()
  sent = sent + 1
  local user = users[math.floor(sent / 2) % #users + 1]
  -- Even: the user's own address; odd: one no account has, fresh each time (no lockout builds up).
  local email = sent % 2 == 0 and user.email or ("nobody-" .. index .. "-" .. sent .. "@example.test")
  return wrk.format("POST", "/api/v1/auth/login", headers,
    '{"email":"' .. email .. '","password":"' .. user.password .. '"}')
end

function response(status, headers, body)
  if status == 200 and body:find('"refreshToken":"', 1, true) then
    known = known + 1
  elseif status == 401 then
    unknown = unknown + 1
  else
    wrong = wrong + 1
  end
end

function done(summary, latency, requests)
  local k, u, w = 0, 0, 0
  for _, thread in ipairs(share.threads()) do
    k, u, w = k + thread:get("known"), u + thread:get("unknown"), w + thread:get("wrong")
  end
  local seconds = summary.duration / 1e6
  print(string.format("sign-ins: %d known (200) and %d unknown (401) in %.1f s: %.1f/s", k, u, seconds, (k + u) / seconds))
  print("wrong answers " .. w)
end
