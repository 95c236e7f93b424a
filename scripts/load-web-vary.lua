-- wrk script for scripts/load-web.sh VARY=1: every request asks for another
-- link MTU (1280..8999), so nearly every one misses the server's report cache.
local counter = 0
request = function()
  counter = counter + 1
  local mtu = 1280 + (counter * 7919) % 7720
  return wrk.format("GET", wrk.path .. "&mtu=" .. mtu)
end
