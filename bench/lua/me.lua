-- GET /api/v1/users/me as one of several customers.
-- Arguments: <access token> ...
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local report = dofile(here .. "report.lua")

local requests = {}

function setup(thread)
  report.track(thread)
end

function init(args)
  for _, token in ipairs(args) do
    table.insert(requests, wrk.format("GET", "/api/v1/users/me", { ["Authorization"] = "Bearer " .. token }))
  end
  report.seed()
end

function request()
  return requests[math.random(#requests)]
end

done = report.done
