-- Fire one claimed SLA or fallback timer: ack it and act, in one step, so the action happens once
-- however many processes claimed the timer (a lease can expire under a slow process). Each action
-- re-checks the conversation, so a timer that outlived its reason does nothing.
-- KEYS[1] anchor. ARGV: timer id, kind, cid, n, now. Returns {outcome, detail}.
local tid, kind, cid, n, now = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
timer_ack(tid)
local ck = conv_key(cid)
local c = redis.call('HMGET', ck, 'state', 'agent', 'pool', 'queued_at', 'customer')
local st, agent, pool = c[1], c[2], c[3]
if not st then return {'gone', ''} end
local EPS = 0.001

-- Hand an assigned conversation from `from` to another agent, as transfer.lua does.
local function handover(to)
  redis.call('SREM', agent_convs_key(agent), cid)
  refresh_agent(agent)
  emit(agent, cjson.encode({type = 'unassigned', conversation_id = cid, reason = 'sla_reassigned'}))
  assign(cid, to, now, nil)
  drain_agent(agent, now)
end

local function free_other_agent()
  local f = redis.call('HMGET', ck, 'skills', 'min_level', 'offered')
  local pools = {pool}
  if f[3] then for _, p in ipairs(cjson.decode(f[3])) do pools[#pools + 1] = p end end
  for _, p in ipairs(pools) do
    for _, aid in ipairs(redis.call('ZRANGE', pool_free_key(p), 0, -1)) do
      if aid ~= agent and has_skills(aid, f[1], tonumber(f[2] or '1')) then return aid end
    end
  end
  return nil
end

-- To the supervisors' pool (front of its queue) unless a member already has it; always told.
local function escalate(s, p, reason)
  if s.escalated_at then return 'already' end
  s.escalated_at = now
  local target = (type(p.escalate) == 'table' and p.escalate.pool) or 'supervisors'
  local moved = 'kept'
  local mine = false
  if agent then
    for _, ap in ipairs(cjson.decode(redis.call('HGET', agent_key(agent), 'pools') or '[]')) do
      if ap == target then mine = true end
    end
  end
  if redis.call('SISMEMBER', RT .. 'pools', target) == 1 and not mine and (st == 'queued' or st == 'assigned') then
    if st == 'queued' and pool then redis.call('ZREM', pool_queue_key(pool), cid) end
    if agent then
      redis.call('SREM', agent_convs_key(agent), cid)
      refresh_agent(agent)
      emit(agent, cjson.encode({type = 'unassigned', conversation_id = cid, reason = 'escalated'}))
      move(cid, 'queued')
    end
    enqueue(cid, target, now, true)
    drain_pool(target, now)
    if agent then drain_agent(agent, now) end
    moved = target
  end
  s.escalated_to = moved
  sla_save(cid, s)
  local frame = cjson.encode({type = 'sla', conversation_id = cid, sla = s, event = 'escalated', target = reason})
  tell_supervisors(frame)
  return moved
end

local function on_breach(s, p, target)
  if type(p.escalate) == 'table' and type(p.escalate.on_breach) == 'table' then
    for _, t in ipairs(p.escalate.on_breach) do
      if t == target then return escalate(s, p, target) end
    end
  end
  return ''
end

if kind == 'fallback' then
  if st ~= 'queued' then return {'noop', st} end
  local dec = cjson.decode(redis.call('HGET', ck, 'decision') or '{}')
  local step = type(dec.fallback) == 'table' and dec.fallback[n] or nil
  if not step then return {'noop', 'no step'} end
  local due = tonumber(c[4] or '0') + num(step.after_s)
  if now + EPS < due then  -- requeued since the ladder started: the wait counts from then
    timer_at(tid, due, 'fallback', cid, n)
    return {'later', tostring(due)}
  end
  local widen = {}
  if step.pool == nil or step.pool == cjson.null then
    widen = redis.call('SMEMBERS', RT .. 'pools')
    redis.call('HSET', ck, 'skills', '[]')
  else
    widen = {step.pool}
  end
  if num(step.min_level) then redis.call('HSET', ck, 'min_level', num(step.min_level)) end
  local offered = cjson.decode(redis.call('HGET', ck, 'offered') or '[]')
  local have = {[pool] = true}
  for _, p in ipairs(offered) do have[p] = true end
  local score = redis.call('ZSCORE', pool_queue_key(pool), cid) or
    queue_score(tonumber(redis.call('HGET', ck, 'priority') or '0'), tonumber(c[4] or now), false)
  for _, p in ipairs(widen) do
    if not have[p] and redis.call('SISMEMBER', RT .. 'pools', p) == 1 then
      have[p] = true
      offered[#offered + 1] = p
      redis.call('ZADD', pool_queue_key(p), score, cid)
    end
  end
  if #offered > 0 then redis.call('HSET', ck, 'offered', cjson.encode(offered)) end
  redis.call('HSET', ck, 'fallback_step', n)
  for p, _ in pairs(have) do
    if redis.call('HGET', ck, 'state') ~= 'queued' then break end
    drain_pool(p, now)
  end
  local s2 = redis.call('HMGET', ck, 'state', 'agent')
  return {'widened', s2[2] or ''}
end

local s = sla_load(cid)
if not s or s.unknown then return {'noop', 'no sla'} end
local p = sla_profile(s.profile) or {}

if kind == 'follow_up' then
  local f = type(p.follow_up) == 'table' and p.follow_up[n] or nil
  if not f then return {'noop', 'no follow-up'} end
  local id = 'task-' .. cid .. '-' .. n
  local task = cjson.encode({id = id, kind = f.task or 'follow_up', note = f.note or '', conversation_id = cid,
    customer_id = c[5], agent = agent, profile = s.profile, created_at = now, state = 'open'})
  if redis.call('HSETNX', RT .. 'tasks', id, task) == 1 then
    redis.call('ZADD', RT .. 'tasks:index', now, id)
    tell_supervisors(cjson.encode({type = 'task', task = cjson.decode(task)}))
  end
  return {'task', id}
end

if st == 'closed' or s.closed_at then return {'noop', 'closed'} end

if kind == 'first_response' or kind == 'first_response_warn' then
  if s.first_response_at or s.breaches.first_response or not s.first_response_due then return {'noop', 'met'} end
  if kind == 'first_response_warn' then
    if s.warned.first_response then return {'noop', 'warned'} end
    s.warned.first_response = now
    sla_save(cid, s)
    tell_agent(cid, s, 'warning', 'first_response')
    return {'warning', agent or ''}
  end
  if now + EPS < s.first_response_due then return {'noop', 'early'} end
  s.breaches.first_response = now
  local outcome = 'breached'
  if st == 'assigned' and agent and p.reassign ~= false then
    local to = free_other_agent()
    if to then
      s.reassigned_from = agent
      sla_save(cid, s)
      emit(agent, sla_frame(cid, s, 'breached', 'first_response'))
      handover(to)
      agent = to
      outcome = 'reassigned'
    end
  end
  sla_save(cid, s)
  if outcome == 'breached' then tell_agent(cid, s, 'breached', 'first_response') end
  on_breach(s, p, 'first_response')
  return {outcome, agent or ''}
end

if kind == 'next_response' or kind == 'next_response_warn' then
  local due = s.next_response_due
  if not due then return {'noop', 'met'} end
  if kind == 'next_response_warn' then
    if s.warned.next_response == due then return {'noop', 'warned'} end
    s.warned.next_response = due
    sla_save(cid, s)
    tell_agent(cid, s, 'warning', 'next_response')
    return {'warning', agent or ''}
  end
  if now + EPS < due or (s.breaches.next_response or 0) >= due then return {'noop', 'early'} end
  s.breaches.next_response = now
  sla_save(cid, s)
  tell_agent(cid, s, 'breached', 'next_response')
  on_breach(s, p, 'next_response')
  return {'breached', agent or ''}
end

if kind == 'resolution' or kind == 'resolution_warn' then
  if s.resolved_at or s.breaches.resolution or not s.resolution_due then return {'noop', 'met'} end
  if kind == 'resolution_warn' then
    if s.warned.resolution then return {'noop', 'warned'} end
    s.warned.resolution = now
    sla_save(cid, s)
    tell_agent(cid, s, 'warning', 'resolution')
    return {'warning', agent or ''}
  end
  if now + EPS < s.resolution_due then return {'noop', 'early'} end
  s.breaches.resolution = now
  sla_save(cid, s)
  tell_agent(cid, s, 'breached', 'resolution')
  tell_supervisors(sla_frame(cid, s, 'breached', 'resolution'))
  on_breach(s, p, 'resolution')
  return {'breached', agent or ''}
end

if kind == 'escalate' then
  return {'escalated', escalate(s, p, 'escalate')}
end
return {'noop', 'unknown kind ' .. kind}
