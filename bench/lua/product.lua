-- GET /api/v1/products/{id}, the id drawn at random per request.
-- Arguments: <lowest id> <highest id> [<id>=<etag> ...] [bearer=<token> ...]; with
-- etags, each request sends If-None-Match for a product whose current ETag it knows
-- (expect 304); with tokens, each request carries one of them, drawn at random.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local report = dofile(here .. "report.lua")

local lo, hi = 1, 1
local ids, etags, tokens = {}, {}, {}

function setup(thread)
  report.track(thread)
end

function init(args)
  lo, hi = tonumber(args[1]), tonumber(args[2])
  for i = 3, #args do
    local token = args[i]:match("^bearer=(.+)$")
    if token then
      table.insert(tokens, "Bearer " .. token)
    else
      local id, etag = args[i]:match("^(%d+)=(.+)$")
      table.insert(ids, id)
      etags[id] = etag
    end
  end
  report.seed()
end

function request()
  if #ids > 0 then
    local id = ids[math.random(#ids)]
    return wrk.format("GET", "/api/v1/products/" .. id, { ["If-None-Match"] = etags[id] })
  end
  local path = "/api/v1/products/" .. math.random(lo, hi)
  if #tokens > 0 then
    return wrk.format("GET", path, { ["Authorization"] = tokens[math.random(#tokens)] })
  end
  return wrk.format("GET", path)
end

function response(status)
  report.count(status)
end

done = report.done
