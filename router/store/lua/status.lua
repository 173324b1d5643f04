-- Set an agent's status. Online drains waiting work to them; away keeps their chats but takes no
-- new ones; offline puts their chats back at the front of the queue for others.
-- Each requeued chat is written to the handover list with where it went, in the same step, and
-- gets a `handover` timer, due now, carrying that entry: its handler (router/ops/handover.py) writes
-- the transcript note and the customer's text, which live in other slots than this script's. The
-- timer is durable, so a crash after this step delays them but cannot lose them.
-- Away may carry why (away_reason: busy, break, training or one from ops.away_reasons); the time spent
-- away is added up per reason and per day when the agent leaves that state (keys.agent_away_time),
-- so a report reads one small hash instead of replaying every change.
-- KEYS[1] anchor. ARGV: aid, status, now, reason (of a handover), away_reason, day (YYYY-MM-DD).
-- Returns {status, previous, requeued_count, handovers_json} (a list of handover entries).
local aid, status, now, reason = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local away_reason, day = ARGV[5] or '', ARGV[6] or ''
local ak = key_agent(aid)
if redis.call('EXISTS', ak) == 0 then return {'err', 'unknown_agent', 0} end
-- A disabled account stays offline, whoever asks (their console, the roster, a supervisor).
if status ~= 'offline' and redis.call('HGET', ak, 'disabled') == '1' then return {'err', 'agent_disabled', 0} end
local was = redis.call('HMGET', ak, 'status', 'status_at', 'away_reason')
local prev = was[1] or 'offline'
if prev == 'away' and day ~= '' then
  local spent = now - tonumber(was[2] or now)
  if spent > 0 then
    local tk = key_agent_away_time(aid, day)
    redis.call('HINCRBYFLOAT', tk, (was[3] and was[3] ~= '') and was[3] or 'away', spent)
    redis.call('EXPIRE', tk, 40 * 86400)
  end
end
redis.call('HSET', ak, 'status', status, 'status_at', now)
local shown = status == 'away' and away_reason or ''
if prev ~= status or (was[3] or '') ~= shown then
  -- Every console of this agent (other tabs, other devices, other processes) shows the change, and
  -- every supervisor's floor view: '*' addresses every agent socket, and a socket passes
  -- `agent_status` on only to staff who may see the team (router/web/agent_ws.py).
  emit(aid, cjson.encode({type = 'status', status = status, reason = shown, why = reason}))
  redis.call(PUBLISH, KEY_AGENT_CHANNEL, '*\n-\n' .. cjson.encode({type = 'agent_status', agent = aid,
    status = status, reason = shown, since = now}))
end
if status == 'away' and away_reason ~= '' then
  redis.call('HSET', ak, 'away_reason', away_reason)
else
  redis.call('HDEL', ak, 'away_reason')
end
local requeued = 0
local moved = {}
if status == 'offline' then
  local pools = {}
  for _, cid in ipairs(redis.call('SMEMBERS', key_agent_convs(aid))) do
    local ck = key_conv(cid)
    local pool = redis.call('HGET', ck, 'pool')
    wake_waiting(cid, now, 'requeued')  -- its clocks run again for whoever takes it
    move(cid, 'queued')
    enqueue(cid, pool, now, true)
    redis.call('SREM', key_agent_convs(aid), cid)
    emit(aid, cjson.encode({type = 'unassigned', conversation_id = cid, reason = reason}))
    emit_customer(cid, cjson.encode({type = 'agent_left', conversation_id = cid, reason = reason}))
    queue_moved(cid, now)
    pools[pool] = true
    requeued = requeued + 1
    moved[requeued] = {cid, pool}
  end
  refresh_agent(aid)
  for pool, _ in pairs(pools) do drain_pool(pool, now) end
else
  refresh_agent(aid)
  if status == 'online' then drain_agent(aid, now) end
end
local out = {}
for i, m in ipairs(moved) do
  local to = redis.call('HGET', key_conv(m[1]), 'agent') or ''
  local id = redis.call('XADD', KEY_HANDOVERS, 'MAXLEN', '~', 10000, '*', 'conversation_id', m[1],
    'from', aid, 'pool', m[2], 'to', to, 'reason', reason, 'at', now)
  out[i] = {id = id, conversation_id = m[1], from = aid, pool = m[2], to = to, reason = reason, at = now}
  owe_followup('handover', out[i], now)
end
if requeued == 0 then return {'ok', prev, 0, '[]'} end
return {'ok', prev, requeued, cjson.encode(out)}
