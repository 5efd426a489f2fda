-- wrk's version of CreateInvoiceSimulation: POST /api/v1/invoices, one invoice of three lines (the
-- simulation's body), from 64 connections on the seeded accounts (LoadSeed … --customer: TOKENS is
-- its csv, token,customerId). Each request writes as the next account in turn, so 64 connections on
-- 8 accounts keep about 8 creations an account in flight, as the simulation's 64 users do; the
-- numbers are checked gap-free in the database after the run (check-invoice-numbers.sql).
--   TOKENS=tokens.csv wrk -t2 -c64 -d30s --latency -s create-invoices.lua https://127.0.0.1:18443
local share = require("wrk-share")
setup = share.setup

function init(args)
  requests_, made = {}, 0
  -- Every thread writes as every account: each takes all the lines, not a share.
  for _, line in ipairs(share.lines(os.getenv("TOKENS"), 1, true)) do
    local token, customer = line:match("^([^,]+),([^,]+)$")
    requests_[#requests_ + 1] = wrk.format("POST", "/api/v1/invoices", {
      ["Authorization"] = "Bearer " .. token,
      ["Content-Type"] = "application/json",
      ["Accept"] = "application/json" },
      '{"customerId":"' .. customer .. '","dueDate":"2027-01-31","lines":['
        .. '{"description":"Labour (hours)","quantity":2,"unitPence":4500},'
        .. '{"description":"Call-out","quantity":1,"unitPence":1250},'
        .. '{"description":"Copper pipe 15mm (m)","quantity":3,"unitPence":333}]}')
  end
  -- The threads start on different accounts, so every account has writers from each.
  made = index
end

function request()
  made = made + 1
  return requests_[(made - 1) % #requests_ + 1]
end
