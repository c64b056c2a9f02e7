-- wrk -s wrk-post.lua: POST the body in the file named by BODY (read as bytes, so binary tensors work),
-- with CONTENT_TYPE and, for the V2 binary tensor extension, INFERENCE_HEADER_CONTENT_LENGTH.
-- At the end it prints one line, "WRK_JSON {...}", that bench/lib/load-generator.mjs parses.
local file = assert(io.open(os.getenv("BODY"), "rb"))
local body = file:read("*a")
file:close()
wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = os.getenv("CONTENT_TYPE") or "application/json"
local headerLength = os.getenv("INFERENCE_HEADER_CONTENT_LENGTH")
if headerLength and headerLength ~= "" then
  wrk.headers["Inference-Header-Content-Length"] = headerLength
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"durationUs":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latencyUs":{"mean":%.1f,"p50":%d,"p90":%d,"p99":%d,"max":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
