-- Shared by every scenario script: turns wrk's summary into one JSON line that
-- bench/run.py reads ("BENCH_JSON {...}"). Latencies are in microseconds.
--
-- Scripts that need status codes counted call M.count(status) from their
-- response() and M.track(thread) from setup(); per-thread counters are summed
-- in done(). wrk counts any status >= 400 as errors.status by itself.

local M = {}

local threads = {}
local CLASSES = { "s2xx", "s3xx", "s409", "s4xx", "s5xx" }

-- Call from setup(thread): numbers the threads and collects them for done().
function M.track(thread)
  table.insert(threads, thread)
  thread:set("thread_id", #threads)
end

-- Call from init(): a different random sequence in every thread and run.
function M.seed()
  math.randomseed(os.time() * 100 + (thread_id or 0))
end

-- Runs in each thread's Lua state: counters are globals so thread:get() sees them.
function M.count(status)
  local key
  if status == 409 then
    key = "s409"
  elseif status >= 500 then
    key = "s5xx"
  elseif status >= 400 then
    key = "s4xx"
  elseif status >= 300 then
    key = "s3xx"
  else
    key = "s2xx"
  end
  _G[key] = (_G[key] or 0) + 1
end

function M.done(summary, latency)
  local e = summary.errors
  local counted = {}
  if #threads > 0 and type(response) == "function" then
    for _, key in ipairs(CLASSES) do
      local total = 0
      for _, thread in ipairs(threads) do
        total = total + (thread:get(key) or 0)
      end
      table.insert(counted, string.format('"%s":%d', key, total))
    end
  end
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,'
      .. '"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d,"status":%d},'
      .. '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f},"statuses":{%s}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    table.concat(counted, ",")
  ))
end

return M
