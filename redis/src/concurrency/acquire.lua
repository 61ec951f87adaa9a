-- Takes a lease of a fleet-wide concurrency limit.
--
-- KEYS[1]: a sorted set of the leases held: member = lease id, score =
--          expiry, in microseconds of the Redis clock.
-- ARGV[1]: the most leases held at once.
-- ARGV[2]: how long a lease lasts, in microseconds.
-- ARGV[3]: the id of the lease to take.
--
-- Drops the expired leases, then takes one if fewer than the most are held.
-- Returns {1, 0} when the lease is taken, and {0, microseconds until the
-- earliest lease held expires} when it is not. The set expires with its
-- last lease.

local max = tonumber(ARGV[1])
local lease = tonumber(ARGV[2])

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])

redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now))
if redis.call('ZCARD', KEYS[1]) < max then
  local expiry = now + lease
  redis.call('ZADD', KEYS[1], string.format('%.0f', expiry), ARGV[3])
  local last = tonumber(redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')[2])
  if last < expiry then
    last = expiry
  end
  redis.call('PEXPIRE', KEYS[1], string.format('%.0f', math.ceil((last - now) / 1000)))
  return {1, 0}
end

local first = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2])
return {0, first - now}
