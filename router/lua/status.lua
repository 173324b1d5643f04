-- Set an agent's status. Online drains waiting work to them; away keeps their chats but takes no
-- new ones; offline puts their chats back at the front of the queue for others.
-- KEYS[1] anchor. ARGV: aid, status, now, reason. Returns {status, previous, requeued_count}.
local aid, status, now, reason = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local ak = agent_key(aid)
if redis.call('EXISTS', ak) == 0 then return {'err', 'unknown_agent', 0} end
local prev = redis.call('HGET', ak, 'status') or 'offline'
redis.call('HSET', ak, 'status', status, 'status_at', now)
local requeued = 0
if status == 'offline' then
  local pools = {}
  for _, cid in ipairs(redis.call('SMEMBERS', agent_convs_key(aid))) do
    local ck = conv_key(cid)
    local pool = redis.call('HGET', ck, 'pool')
    move(cid, 'queued')
    enqueue(cid, pool, now, true)
    redis.call('SREM', agent_convs_key(aid), cid)
    emit(aid, cjson.encode({type = 'unassigned', conversation_id = cid, reason = reason}))
    emit_customer(cid, cjson.encode({type = 'agent_left', conversation_id = cid, reason = reason}))
    pools[pool] = true
    requeued = requeued + 1
  end
  refresh_agent(aid)
  for pool, _ in pairs(pools) do drain_pool(pool, now) end
else
  refresh_agent(aid)
  if status == 'online' then drain_agent(aid, now) end
end
return {'ok', prev, requeued}
