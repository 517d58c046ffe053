-- wrk script for benches/morning-peak.sh: every request plays one of the signed-in
-- teachers (round robin per thread) at the register of their lesson.
--   MODE=get   GET the register page of the teacher's lesson
--   MODE=post  save it: every pupil present, absent or late at random
--   MODE=baseline  GET the bare baseline page of the teacher's group
-- SESSIONS names the file bench_sessions printed (tab-separated lines).

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

function setup(thread)
  thread:set("offset", math.random(#teachers))
end

function request()
  counter = counter + 1
  local t = teachers[((counter + (offset or 0)) % #teachers) + 1]
  if mode == "baseline" then
    return wrk.format("GET", "/baseline/" .. t.group)
  end
  local path = "/absence/groups/" .. t.group .. "/register"
  local headers = { ["Cookie"] = "tavle-session=" .. t.cookie }
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

local codes = {}
function response(status, headers, body)
  codes[status] = (codes[status] or 0) + 1
end

function done(summary, latency, requests)
  io.write(string.format("RESULT mode=%s requests=%d rps=%.1f p50_ms=%.2f p99_ms=%.2f errors=%d\n",
    mode, summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
