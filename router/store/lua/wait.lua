-- An agent parks a chat of theirs waiting for the customer, optionally until a time, or takes it
-- back (issue 19). It stays theirs and on their load (a shop expects the owner to keep it), leaves
-- their active list for a waiting one, and its response clocks pause (sla_lib.lua: sla_pause). A
-- customer message (route.lua), the `wake` timer (sla_fire.lua) or the agent wakes it.
-- KEYS[1] anchor. ARGV: cid, aid, now, until ('' = until the customer writes), park ('1' park,
-- '0' take back). Returns {'ok', 'waiting' | 'woken' | 'active'} or {'err', reason}.
local cid, aid, now, till, park = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5] == '1'
local ck = key_conv(cid)
local f = redis.call('HMGET', ck, 'state', 'agent')
if not f[1] then return {'err', 'unknown_conversation'} end
if f[1] ~= 'assigned' or f[2] ~= aid then return {'err', 'not_assigned_to_you'} end
if not park then
  if wake_waiting(cid, now, 'agent') then return {'ok', 'woken'} end
  return {'ok', 'active'}
end
if till and till <= now then return {'err', 'until_in_the_past'} end
timer_cancel(cid .. ':wake')
redis.call('HSET', ck, 'waiting', '1', 'waiting_since', now)
if till then
  redis.call('HSET', ck, 'waiting_until', till)
  timer_at(cid .. ':wake', till, 'wake', cid)
else
  redis.call('HDEL', ck, 'waiting_until')
end
sla_pause(cid, now)
emit(aid, cjson.encode({type = 'waiting', conversation_id = cid, waiting = true, ['until'] = till or cjson.null}))
return {'ok', 'waiting'}
