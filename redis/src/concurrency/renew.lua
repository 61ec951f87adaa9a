-- Renews a lease of a fleet-wide concurrency limit.
--
-- KEYS[1]: the sorted set of the leases held (see acquire.lua).
-- ARGV[1]: how long a lease lasts, in microseconds.
-- ARGV[2]: the id of the lease to renew.
--
-- Returns 1 when the lease now lasts ARGV[1] from now, and 0 when it was
-- gone (expired, or released): an expired lease is not brought back, since
-- another may have taken its place.

local lease = tonumber(ARGV[1])

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])

local score = redis.call('ZSCORE', KEYS[1], ARGV[2])
if not score or tonumber(score) <= now then
  redis.call('ZREM', KEYS[1], ARGV[2])
  return 0
end

local expiry = now + lease
redis.call('ZADD', KEYS[1], 'XX', string.format('%.0f', expiry), ARGV[2])
local last = tonumber(redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')[2])
redis.call('PEXPIRE', KEYS[1], string.format('%.0f', math.ceil((last - now) / 1000)))
return 1
