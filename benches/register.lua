-- wrk script for benches/morning-peak.sh: every request plays one of the signed-in
-- teachers (round robin per thread) at the register of their lesson, or at the grade
-- grid of their group.
--   MODE=get   GET the register page of the teacher's lesson
--   MODE=post  save it: every pupil present, absent or late at random
--   MODE=grid  GET the grade grid of the teacher's group for the open period
--   MODE=grid-save  save it: every pupil a grade 1-6 at random (most lines change)
--   MODE=bare, baseline or audited  GET that reference page of the teacher's group
--       (examples/bench_baseline.rs)
-- SESSIONS names the file bench_sessions printed (tab-separated lines; for the grid
-- modes, `bench_sessions ... grid`, whose fourth column is the period, not a lesson).

local mode = os.getenv("MODE") or "get"
local teachers = {}

local function split(s, sep)
  local out = {}
  for part in string.gmatch(s, "([^" .. sep .. "]+)") do table.insert(out, part) end
  return out
end

for line in io.lines(os.getenv("SESSIONS")) do
  local f = split(line, "\t")
  table.insert(teachers, { cookie = f[1], csrf = f[2], group = f[3], lesson = f[4], date = f[5], pupils = split(f[6], ",") })
end

local counter = 0
local statuses = { "present", "present", "present", "present", "present", "present", "absent", "late" }

local threads = {}
function setup(thread)
  thread:set("offset", math.random(#teachers))
  table.insert(threads, thread)
end

function request()
  counter = counter + 1
  local t = teachers[((counter + (offset or 0)) % #teachers) + 1]
  if mode == "bare" or mode == "baseline" or mode == "audited" then
    return wrk.format("GET", "/" .. mode .. "/" .. t.group)
  end
  local headers = { ["Cookie"] = "tavle-session=" .. t.cookie }
  if mode == "grid" or mode == "grid-save" then
    local grid = "/assessment/groups/" .. t.group
    if mode == "grid" then return wrk.format("GET", grid .. "?period=" .. t.lesson, headers) end
    local body = { "csrf=" .. t.csrf, "period=" .. t.lesson }
    for _, p in ipairs(t.pupils) do table.insert(body, "g-" .. p .. "=" .. tostring(math.random(1, 6))) end
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    return wrk.format("POST", grid, headers, table.concat(body, "&"))
  end
  local path = "/absence/groups/" .. t.group .. "/register"
  if mode == "get" then
    return wrk.format("GET", path .. "?date=" .. t.date .. "&lesson=" .. t.lesson, headers)
  end
  local body = { "csrf=" .. t.csrf, "date=" .. t.date, "lesson=" .. t.lesson }
  for _, p in ipairs(t.pupils) do
    local s = statuses[math.random(#statuses)]
    table.insert(body, "status-" .. p .. "=" .. s)
    if s == "late" then table.insert(body, "minutes-" .. p .. "=" .. tostring(math.random(1, 30))) end
  end
  headers["Content-Type"] = "application/x-www-form-urlencoded"
  return wrk.format("POST", path, headers, table.concat(body, "&"))
end

-- Answers by status code, per thread (each thread runs its own Lua state; `done`
-- collects them).
-- A saved grid redirects to `...&saved=N`, N the grades that changed: summed, to show
-- how much each save wrote.
codes = {}
changed = 0
function response(status, headers, body)
  codes[status] = (codes[status] or 0) + 1
  local loc = headers["location"] or headers["Location"]
  local n = status == 303 and loc and mode == "grid-save" and string.match(loc, "[?&]saved=(%d+)")
  if n then changed = changed + tonumber(n) end
end

function done(summary, latency, requests)
  local total = {}
  local changed_total = 0
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("codes") or {}) do total[status] = (total[status] or 0) + n end
    changed_total = changed_total + (thread:get("changed") or 0)
  end
  local keys = {}
  for status in pairs(total) do table.insert(keys, status) end
  table.sort(keys)
  local parts = {}
  for _, status in ipairs(keys) do table.insert(parts, status .. ":" .. total[status]) end
  if changed_total > 0 and total[303] then
    table.insert(parts, string.format("changed/save:%.1f", changed_total / total[303]))
  end
  local e = summary.errors
  -- No answer at all: wrk gave up after its timeout (2 s), or the socket failed.
  if e.timeout > 0 then table.insert(parts, string.format("timeout:%d", e.timeout)) end
  if e.connect + e.read + e.write > 0 then
    table.insert(parts, string.format("socket:%d", e.connect + e.read + e.write))
  end
  io.write(string.format("RESULT mode=%s requests=%d rps=%.1f p50_ms=%.2f p99_ms=%.2f errors=%d statuses=%s\n",
    mode, summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.status + e.connect + e.read + e.write + e.timeout, table.concat(parts, ",")))
end
