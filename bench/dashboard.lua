-- wrk script for the registration dashboard benchmark (see bench/README.md).
--
-- POSTs the query in bench/dashboard.graphql (all four dashboard panels, one
-- year, DAY buckets) to the GraphQL endpoint with `Authorization: Bearer KEY`.
--
-- Environment:
--   API_KEY   (required) the tenant's API key
--   QUERY     path of the GraphQL document (default: dashboard.graphql beside this script)
--   FROM, TO, TIME_ZONE   the period (default 2025-11-01, 2026-11-01, America/Santiago)
--   UNIQUE=1  make every request's period distinct to defeat caches: `from`
--             becomes FROM .. "THH:MM", a minute offset in 0..1439. The
--             offsets start at a random minute and are spread over the
--             threads (minute = start + thread + k * THREADS, mod 1440), so
--             the first 1440 requests of a run never repeat a period (a pure
--             random pick would repeat about one request in five after 600).
--   THREADS   wrk's thread count (the stride of the offsets; bench script sets it)
--   OPERATION the operation name in the document (default Dashboard)
--   USER_ID   when set, also sent as the variable `id` (bench/activity.sh)
--   CHECK=1   (default) count responses that are not HTTP 200 or carry
--             GraphQL "errors"; CHECK=0 skips reading response bodies.
--
-- done() prints one machine-readable line starting with "BENCH " that
-- bench/registrations.sh parses.

local function env(name, default)
  local v = os.getenv(name)
  if v == nil or v == "" then return default end
  return v
end

local function script_dir()
  local src = debug.getinfo(1, "S").source
  if src:sub(1, 1) == "@" then
    local dir = src:sub(2):match("^(.*)/[^/]*$")
    if dir then return dir end
  end
  return "."
end

local function json_string(s)
  local escaped = s:gsub('[%c"\\]', function(c)
    if c == '"' then return '\\"'
    elseif c == '\\' then return '\\\\'
    elseif c == '\n' then return '\\n'
    elseif c == '\r' then return '\\r'
    elseif c == '\t' then return '\\t'
    else return string.format('\\u%04x', c:byte()) end
  end)
  return '"' .. escaped .. '"'
end

local function read_file(path)
  local f, err = io.open(path, "r")
  if not f then error("cannot read GraphQL query: " .. tostring(err)) end
  local text = f:read("*a")
  f:close()
  return text
end

local api_key = env("API_KEY", nil)
if not api_key then error("API_KEY is not set") end

local query_json = json_string(read_file(env("QUERY", script_dir() .. "/dashboard.graphql")))
local from_date = env("FROM", "2025-11-01")
local to_json = json_string(env("TO", "2026-11-01"))
local tz_json = json_string(env("TIME_ZONE", "America/Santiago"))
local unique = env("UNIQUE", "0") == "1"
local check = env("CHECK", "1") == "1"
local stride = tonumber(env("THREADS", "1")) or 1

local operation_json = json_string(env("OPERATION", "Dashboard"))
local user_id = env("USER_ID", nil)
local id_part = user_id and (',"id":' .. json_string(user_id)) or ""

local function body_for(from)
  return '{"operationName":' .. operation_json .. ',"query":' .. query_json
    .. ',"variables":{"period":{"from":' .. json_string(from)
    .. ',"to":' .. to_json .. ',"timeZone":' .. tz_json .. '}' .. id_part .. '}}'
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. api_key
wrk.body = body_for(from_date)

-- Runs in the main Lua state, once per thread, before the run; thread:set()
-- assigns globals in that thread's own Lua state.
local threads = {}
local first_minute = nil
function setup(thread)
  if first_minute == nil then
    math.randomseed(os.time())
    first_minute = math.random(0, 1439)
  end
  thread:set("thread_index", #threads)
  thread:set("minute0", first_minute)
  table.insert(threads, thread)
end

-- Per-thread globals (each wrk thread has its own Lua state); setup()
-- overwrites the first two before the thread starts.
thread_index = 0
minute0 = 0
sent = 0
bad_status = 0
graphql_errors = 0

if unique then
  function request()
    local minute = (minute0 + thread_index + sent * stride) % 1440
    sent = sent + 1
    local from = string.format("%sT%02d:%02d", from_date, math.floor(minute / 60), minute % 60)
    return wrk.format(nil, nil, nil, body_for(from))
  end
end

if check then
  function response(status, headers, body)
    if status ~= 200 then
      bad_status = bad_status + 1
    elseif body == nil or body:find('"errors"', 1, true) then
      graphql_errors = graphql_errors + 1
    end
  end
end

function done(summary, latency, requests)
  local bad, gql = 0, 0
  for _, t in ipairs(threads) do
    bad = bad + (tonumber(t:get("bad_status")) or 0)
    gql = gql + (tonumber(t:get("graphql_errors")) or 0)
  end
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    "BENCH requests=%d duration_s=%.3f rps=%.2f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f mean_ms=%.3f"
      .. " connect_errors=%d read_errors=%d write_errors=%d timeouts=%d non2xx=%d bad_status=%d graphql_errors=%d checked=%d unique=%d\n",
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, latency.mean / 1000,
    e.connect, e.read, e.write, e.timeout, e.status, bad, gql,
    check and 1 or 0, unique and 1 or 0))
  if unique and summary.requests > 1440 then
    io.write(string.format(
      "NOTE: %d requests > 1440 distinct periods: later requests repeated a period and may have been served from a cache\n",
      summary.requests))
  end
end
