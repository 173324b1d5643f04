-- Claim due timers for this process: each moves from the due set to the in-flight set with a
-- lease, in one step, so two processes never claim the same timer. Leases that ran out (their
-- process died between claim and ack) are claimed again first.
-- KEYS[1] anchor. ARGV: now, lease_s, limit.
-- Returns {next_due or '', tid1, data1, tid2, data2, ...}; data '' means the timer was cancelled.
local now, lease, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local out = {''}
local function take(tid)
  redis.call('ZADD', KEY_TIMERS_INFLIGHT, now + lease, tid)
  out[#out + 1] = tid
  out[#out + 1] = redis.call('HGET', KEY_TIMERS_DATA, tid) or ''
end
for _, tid in ipairs(redis.call('ZRANGEBYSCORE', KEY_TIMERS_INFLIGHT, '-inf', now, 'LIMIT', 0, limit)) do
  take(tid)
end
local room = limit - (#out - 1) / 2
if room > 0 then
  for _, tid in ipairs(redis.call('ZRANGEBYSCORE', KEY_TIMERS_DUE, '-inf', now, 'LIMIT', 0, room)) do
    redis.call('ZREM', KEY_TIMERS_DUE, tid)
    take(tid)
  end
end
-- When to look again: the next due timer or the next lease to run out, whichever is first.
local nxt = nil
for _, key in ipairs({KEY_TIMERS_DUE, KEY_TIMERS_INFLIGHT}) do
  local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  if first[2] and (nxt == nil or tonumber(first[2]) < nxt) then nxt = tonumber(first[2]) end
end
if nxt then out[1] = tostring(nxt) end
return out
