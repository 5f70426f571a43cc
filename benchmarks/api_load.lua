-- wrk script of benchmarks/api_load.py: GET requests of one kind on random paths, with the
-- session cookie; prints the latency percentiles and the error count in one line at the end.
--
-- Environment: BENCH_COOKIE (the Cookie header), BENCH_KIND (me, list, timeline or mixed:
-- half list, half timeline), BENCH_PATIENTS (patients BENCH-000001 ... in the registry).

local cookie = os.getenv("BENCH_COOKIE")
local kind = os.getenv("BENCH_KIND") or "mixed"
local patients = tonumber(os.getenv("BENCH_PATIENTS") or "10000")
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
end

function init(args)
  math.randomseed(os.time() * 1000 + (seed or 0))
end

local function path_of(which)
  if which == "mixed" then
    which = (math.random(2) == 1) and "list" or "timeline"
  end
  if which == "list" then
    return "/api/patients?offset=" .. math.random(0, math.max(0, patients - 51))
  elseif which == "timeline" then
    return string.format("/api/patients/BENCH-%06d/timeline", math.random(1, patients))
  end
  return "/api/me"
end

function request()
  return wrk.format("GET", path_of(kind), { ["Cookie"] = cookie })
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d p50_us=%d p95_us=%d p99_us=%d bad_status=%d "
      .. "socket_errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), errors.status,
    errors.connect + errors.read + errors.write + errors.timeout))
end
