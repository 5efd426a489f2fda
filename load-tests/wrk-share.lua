-- What the wrk scripts here share: each thread's number, and the thread's share of a file's lines.
-- A script does `local share = require("wrk-share")` and `setup = share.setup`; wrk loads it in
-- the main Lua state (setup, done) and again in each thread's own (init, request, response).
local share = {}
local threads, created = {}, 0

-- wrk calls setup(thread) in the main state once per thread, before any thread starts: each gets
-- its number as the global `index` of its own state.
function share.setup(thread)
  thread:set("index", created)
  created = created + 1
  threads[#threads + 1] = thread
end

-- The threads set up, in order (for done, in the main state).
function share.threads()
  return threads
end

-- In a thread's init: the lines of `path` that are this thread's, after `skip` header lines:
-- lines skip+1+index, skip+1+index+THREADS, … (THREADS: wrk -t, 2 by default); with `every`,
-- all of them, for scripts whose threads all send every line.
function share.lines(path, skip, every)
  local of = every and 1 or tonumber(os.getenv("THREADS") or "2")
  local mine, n = {}, -(skip or 0)
  for line in io.lines(path) do
    if n >= 0 and n % of == (every and 0 or index) then
      mine[#mine + 1] = line
    end
    n = n + 1
  end
  return mine
end

-- In request(): true for the one call that is not a request. wrk calls request() once in the first
-- thread's state before the run, to check what the script makes, and never sends that one; a
-- script that counts or consumes what request() hands out must not count it.
local verified = false
function share.verifying()
  if index == 0 and not verified then
    verified = true
    return true
  end
  return false
end

return share
