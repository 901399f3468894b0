-- wrk script of bench:server (run.ts passes the arguments after `--`):
--   get                      GET the URL as is (hello world)
--   airlock <prefix> <auth>  POST /v1/decide: a $20 issue_refund to a new account each request
--   cerbos <prefix>          POST /api/check/resources: the same $20 refund, a new call id each request
-- <prefix> differs per round so account ids never repeat in a run. `done` prints one line
-- `BENCH_JSON {…}` that run.ts parses (latency in microseconds).
local mode, prefix, auth
local headers = {}
local n = 0

function init(args)
  mode = args[1] or "get"
  prefix = args[2] or "R"
  auth = args[3]
  headers["Content-Type"] = "application/json"
  if auth then headers["Authorization"] = "Bearer " .. auth end
end

function request()
  if mode == "get" then return wrk.format("GET") end
  n = n + 1
  local body
  if mode == "airlock" then
    body = '{"tool":"issue_refund","args":{"account_id":"BENCH-' .. prefix .. '-' .. n .. '","amount":20,"currency":"USD"}}'
  else
    body = '{"requestId":"' .. prefix .. '-' .. n .. '","principal":{"id":"bench-bot-1","roles":["support"]},' ..
      '"resources":[{"actions":["issue_refund","issue_refund_with_approval"],' ..
      '"resource":{"kind":"tool_call","id":"BENCH-' .. prefix .. '-' .. n .. '","attr":{"amount":20}}}]}'
  end
  return wrk.format("POST", nil, headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
