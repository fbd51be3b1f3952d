-- wrk script for bench/issuance.bench.ts: POSTs JSON bodies read from a file (one per line), rotating through
-- them; each wrk thread starts at its own offset. Arguments after `--`: body file, optional bearer token.
-- done() prints one line "RESULT {json}" for the benchmark to parse.
local bodies = {}
local counter = 0
local nthreads = 0

function setup(thread)
  thread:set("thread_index", nthreads)
  nthreads = nthreads + 1
end

function init(args)
  for line in io.lines(args[1]) do
    bodies[#bodies + 1] = line
  end
  counter = (thread_index or 0) * math.floor(#bodies / 2)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  if args[2] ~= nil and args[2] ~= "" then
    wrk.headers["Authorization"] = "Bearer " .. args[2]
  end
end

function request()
  counter = counter + 1
  return wrk.format(nil, nil, nil, bodies[(counter % #bodies) + 1])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests":%d,"duration_us":%d,"status_errors":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
