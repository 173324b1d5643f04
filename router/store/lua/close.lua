-- Close a conversation; the agent's slot frees and goes at once to the most urgent waiting one.
-- KEYS[1] anchor. ARGV: cid, actor, now, resolution, force. Returns {status, agent|reason, already}:
-- `already` is '1' when it was closed before this call (nothing changed), so a bulk close can say
-- which of two overlapping requests closed a chat.
local cid, actor, now, resolution, force = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5]
local ck = key_conv(cid)
local f = redis.call('HMGET', ck, 'state', 'agent', 'pool', 'customer', 'assigned_at')
local st, agent, pool, cust = f[1], f[2], f[3], f[4]
if not st then return {'err', 'unknown_conversation'} end
if st == 'closed' then return {'ok', agent or '', '1'} end
if force ~= '1' and agent ~= actor then return {'err', 'not_assigned_to_you'} end
if not can_move(st, 'closed') then return {'err', 'cannot close a conversation in state ' .. st} end
if st == 'queued' and pool then redis.call('ZREM', key_pool_queue(pool), cid) end
unoffer(cid)
move(cid, 'closed')
redis.call('HSET', ck, 'closed_at', now, 'resolution', resolution, 'updated', now)
redis.call('ZADD', KEY_CONV_INDEX, now, cid)
local kc = key_customer(cust)
if redis.call('HGET', kc, 'open') == cid then redis.call('HDEL', kc, 'open') end
redis.call('HSET', kc, 'last_conv', cid)
local frame = '{"type":"closed","conversation_id":"' .. cid .. '"}'
if agent then
  redis.call('SREM', key_agent_convs(agent), cid)
  redis.call('HSET', kc, 'last_agent', agent, 'last_agent_at', now)
  refresh_agent(agent)
  -- Moving average of handle time per pool feeds the queue's wait estimate.
  local started = tonumber(f[5] or '0')
  if pool and started > 0 then
    local pk = key_pool_stats(pool)
    local avg = tonumber(redis.call('HGET', pk, 'avg_handle_s') or '180')
    redis.call('HSET', pk, 'avg_handle_s', avg * 0.9 + (now - started) * 0.1)
  end
  emit(agent, frame)
  drain_agent(agent, now)
end
sla_closed(cid, now)
archive_closed(cid, now)
emit_customer(cid, frame)
queue_moved(cid, now)
return {'ok', agent or '', '0'}
