-- Decide whether a WeChat/Telegram customer gets a queue-position text now: only when the
-- position changed since the last text and at most once per interval. Every process sees the
-- same pub/sub frame; this compare-and-set lets exactly one of them send.
-- A change that comes too soon schedules a timer that re-sends the position when the interval
-- ends. KEYS[1] anchor. ARGV: cid, position, now, interval_s. Returns {'send', n} | {'same'|'wait', n}.
local cid, pos, now, interval = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local k = key_queue_text(cid)
local f = redis.call('HMGET', k, 'pos', 'at', 'n')
local n = tonumber(f[3] or '0')
if f[1] == pos then return {'same', n} end
if f[2] and now - tonumber(f[2]) < interval then
  -- Too soon: come back when the interval ends, so the latest position still reaches them.
  local tid = 'qtext:' .. cid
  if redis.call('ZADD', KEY_TIMERS_DUE, 'NX', tonumber(f[2]) + interval, tid) == 1 then
    redis.call('HSET', KEY_TIMERS_DATA, tid, cjson.encode({kind = 'queue_position', cid = cid}))
  end
  return {'wait', n}
end
n = n + 1
redis.call('HSET', k, 'pos', pos, 'at', now, 'n', n)
redis.call('EXPIRE', k, 86400)
return {'send', n}
