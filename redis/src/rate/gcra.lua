-- GCRA for one key, on the Redis server's clock.
--
-- KEYS[1]: the key's theoretical arrival time (TAT), in microseconds of the
--          Redis clock, as a decimal string; a missing key is a quiet limit.
-- ARGV[1]: the emission interval, in microseconds (at least 1).
-- ARGV[2]: the tolerance, interval * (burst - 1), in microseconds.
-- ARGV[3]: how many permits are wanted (at least 1).
--
-- Admits as many of the wanted permits as GCRA would admit one after the
-- other at this instant, stores the new TAT with an expiry at that TAT (a
-- key whose TAT has passed carries no information), and returns
-- {granted, microseconds until one more permit would be admitted}.
--
-- Every figure is a whole number of microseconds below 2^53, which Lua's
-- doubles hold exactly.

local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local wanted = tonumber(ARGV[3])

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])

local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then
  tat = now
end

local granted = 0
local ahead = tat - now
if ahead <= tolerance then
  -- room = floor((tolerance - ahead) / interval), with the division's
  -- rounding corrected: the product is exact.
  local slack = tolerance - ahead
  local room = math.floor(slack / interval)
  if room * interval > slack then
    room = room - 1
  end
  granted = math.min(room + 1, wanted)
  tat = tat + granted * interval
  local expiry_ms = math.ceil((tat - now) / 1000)
  redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', string.format('%.0f', expiry_ms))
end

local wait = tat - now - tolerance
if wait < 0 then
  wait = 0
end
return {granted, wait}
