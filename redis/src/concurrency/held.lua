-- Counts the leases of a fleet-wide concurrency limit that have not
-- expired. Reads only.
--
-- KEYS[1]: the sorted set of the leases held (see acquire.lua).

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
return redis.call('ZCOUNT', KEYS[1], '(' .. string.format('%.0f', now), '+inf')
