package store

import "github.com/redis/go-redis/v9"

// The scripts run atomically inside Redis, so counters never go through a
// read-modify-write from Go. Times arrive from the caller's clock as integer
// microseconds (exact in Lua's doubles until the year 2255); Redis TTLs are
// set from the same durations so that Redis frees what has expired.

// incrScript: KEYS[1] a hash {n: total, e: window end}; ARGV delta,
// expireAt, now. A window that has ended starts again from the delta.
var incrScript = redis.NewScript(`
local e = tonumber(redis.call('HGET', KEYS[1], 'e'))
local now = tonumber(ARGV[3])
if e == nil or e <= now then
  local exp = tonumber(ARGV[2])
  redis.call('HSET', KEYS[1], 'n', ARGV[1], 'e', ARGV[2])
  local ttl = math.ceil((exp - now) / 1000)
  if ttl < 1 then ttl = 1 end
  redis.call('PEXPIRE', KEYS[1], ttl)
  return tonumber(ARGV[1])
end
return redis.call('HINCRBY', KEYS[1], 'n', ARGV[1])
`)

// slidingScript: KEYS[1] a sorted set of requests scored by time, each
// member "delta:nonce" (unique per request); KEYS[2] the running total of
// the members. ARGV delta, cutoff (now-window), now, member, ttl ms.
// Members at or before cutoff leave the window and the total; a total
// without its set (one expired first) is recomputed from the set.
var slidingScript = redis.NewScript(`
local function delta(m) return tonumber(string.match(m, '^(-?%d+):')) end
local t = redis.call('GET', KEYS[2])
local total = 0
if t and redis.call('EXISTS', KEYS[1]) == 1 then
  total = tonumber(t)
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])) do
    total = total - delta(m)
  end
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
else
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
  for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
    total = total + delta(m)
  end
end
local d = tonumber(ARGV[1])
if d ~= 0 then
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
  total = total + d
end
if redis.call('ZCARD', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[1], KEYS[2])
  return 0
end
redis.call('SET', KEYS[2], total, 'PX', ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return total
`)

// gcraScript: KEYS[1] the theoretical arrival time; ARGV now, interval,
// burst, cost. Returns {1, 0} when admitted, {0, retryAfter} when not; it
// mirrors the memory store's gcra.
var gcraScript = redis.NewScript(`
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
if burst < 1 then burst = 1 end
local tat = tonumber(redis.call('GET', KEYS[1]))
if tat == nil or tat < now then tat = now end
local new = tat + cost * interval
local over = new - burst * interval - now
if over > 0 then return {0, over} end
local ttl = math.ceil((new - now) / 1000)
if ttl < 1 then ttl = 1 end
redis.call('SET', KEYS[1], string.format('%d', new), 'PX', ttl)
return {1, 0}
`)

// setNXScript: KEYS[1] a cache entry "expireAt:value"; ARGV the new
// entry, now, ttl ms (0: none). An entry expired by the caller's clock
// counts as absent even if Redis has not dropped it yet.
var setNXScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v then
  local e = tonumber(string.match(v, '^(%d+):'))
  if e == nil or e == 0 or e > tonumber(ARGV[2]) then return 0 end
end
if ARGV[3] == '0' then
  redis.call('SET', KEYS[1], ARGV[1])
else
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
end
return 1
`)
