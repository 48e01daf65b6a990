-- wrk script: POST pre-built request bodies (onion envelopes), each once: real clients never
-- send the same envelope twice, and the server refuses a repeated one that writes.
-- usage: wrk -t1 -c8 -d10s -s bench/wrk/bodies.lua URL -- DIR COUNT PATH
-- DIR holds 1.bin .. COUNT.bin; PATH is the request path (e.g. /loki/v3/lsrpc). When all
-- COUNT are sent the thread stops (bench/wrk.py then reports the row as too short).
local requests = {}
local n = 0
local i = 0

init = function(args)
  local dir, count, path = args[1], tonumber(args[2]), args[3]
  for k = 1, count do
    local f = assert(io.open(dir .. "/" .. k .. ".bin", "rb"))
    local body = f:read("*a")
    f:close()
    requests[k] = wrk.format("POST", path, {["Content-Type"] = "text/plain"}, body)
  end
  n = count
end

request = function()
  i = i + 1
  if i > n then
    wrk.thread:stop()
    i = n
  end
  return requests[i]
end
