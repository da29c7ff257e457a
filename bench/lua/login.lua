-- POST /api/v1/auth/login with JSON credentials of a random seeded customer.
-- Arguments: <password> <username> ...
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local report = dofile(here .. "report.lua")

local bodies = {}

function setup(thread)
  report.track(thread)
end

function init(args)
  for i = 2, #args do
    table.insert(bodies, string.format('{"username":"%s","password":"%s"}', args[i], args[1]))
  end
  report.seed()
end

function request()
  local body = bodies[math.random(#bodies)]
  return wrk.format("POST", "/api/v1/auth/login", { ["Content-Type"] = "application/json" }, body)
end

function response(status)
  report.count(status)
end

done = report.done
