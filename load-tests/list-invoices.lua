-- wrk's version of ListInvoicesSimulation: each request carries the next seeded tradesperson's
-- token (tokens.csv, written by the seeder) and lists their 20 newest invoices. wrk counts
-- anything but a 2xx or 3xx as "Non-2xx or 3xx responses" in its summary.
--   wrk -t2 -c64 -d60s --latency -s list-invoices.lua https://127.0.0.1:18443
-- WRK_PATH asks for another route with the same tokens, e.g. WRK_PATH=/api/v1/me.
local tokens = {}
for line in io.lines(os.getenv("TOKENS") or "tokens.csv") do
  if line ~= "token" and #line > 0 then
    tokens[#tokens + 1] = line
  end
end

local next_token = 0
local path = os.getenv("WRK_PATH") or "/api/v1/invoices?limit=20"

request = function()
  next_token = next_token % #tokens + 1
  return wrk.format("GET", path,
    { ["Authorization"] = "Bearer " .. tokens[next_token], ["Accept"] = "application/json" })
end
