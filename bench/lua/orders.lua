-- POST /api/v1/orders: 1 to 3 distinct products, one of each, drawn from a few
-- hot products so that concurrent orders contend for the same stock rows.
-- Arguments: <comma-separated hot product ids> <access token> ...
-- 409 (insufficient_stock) is counted apart from other errors.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local report = dofile(here .. "report.lua")

local hot, tokens = {}, {}

function setup(thread)
  report.track(thread)
end

function init(args)
  for id in args[1]:gmatch("%d+") do
    table.insert(hot, tonumber(id))
  end
  for i = 2, #args do
    table.insert(tokens, "Bearer " .. args[i])
  end
  report.seed()
end

function request()
  local n = math.random(1, math.min(3, #hot))
  local chosen, items = {}, {}
  while #items < n do
    local id = hot[math.random(#hot)]
    if not chosen[id] then
      chosen[id] = true
      table.insert(items, string.format('{"product_id":%d,"quantity":1}', id))
    end
  end
  local body = '{"items":[' .. table.concat(items, ",") .. ']}'
  local headers = { ["Content-Type"] = "application/json", ["Authorization"] = tokens[math.random(#tokens)] }
  return wrk.format("POST", "/api/v1/orders", headers, body)
end

function response(status)
  report.count(status)
end

done = report.done
