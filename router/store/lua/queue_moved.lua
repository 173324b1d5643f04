-- A conversation left or re-entered a queue (assigned, closed, requeued): schedule one
-- announcement of the new positions in its pool, `delay` from now. ZADD NX coalesces a burst of
-- moves, and every process seeing the same event schedules the same single timer.
-- KEYS[1] anchor. ARGV: cid, now, delay_s. Returns 1 if a timer was scheduled.
local cid, now, delay = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local pool = redis.call('HGET', key_conv(cid), 'pool')
if not pool or redis.call('ZCARD', key_pool_queue(pool)) == 0 then return 0 end
local tid = 'announce:' .. pool
if redis.call('ZADD', KEY_TIMERS_DUE, 'NX', now + delay, tid) == 0 then return 0 end
redis.call('HSET', KEY_TIMERS_DATA, tid, cjson.encode({kind = 'queue_announce', pool = pool}))
return 1
