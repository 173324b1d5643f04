-- Fire one claimed SLA or fallback timer: ack it and act, in one step, so the action happens once
-- however many processes claimed the timer (a lease can expire under a slow process). Each action
-- re-checks the conversation, so a timer that outlived its reason does nothing.
-- KEYS[1] anchor. ARGV: timer id, kind, cid, n, now. Returns {outcome, detail}.
local tid, kind, cid, n, now = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
-- A claim whose lease ran out while its process was slow is claimed again by another process, and
-- both then get here. The first to arrive acks; a later one finds the timer neither in flight nor
-- due, and does nothing, so it neither acts nor reports a second firing.
local live = redis.call('ZSCORE', KEY_TIMERS_INFLIGHT, tid) or redis.call('ZSCORE', KEY_TIMERS_DUE, tid)
timer_ack(tid)
if not live then return {'noop', 'fired elsewhere'} end
local ck = key_conv(cid)
local c = redis.call('HMGET', ck, 'state', 'agent', 'pool', 'queued_at', 'customer')
local st, agent, pool = c[1], c[2], c[3]
if not st then return {'gone', ''} end
local EPS = 0.001

-- A waiting chat's time came (wait.lua); a chat woken or parked again since has no such due time.
if kind == 'wake' then
  local due = tonumber(redis.call('HGET', ck, 'waiting_until') or '')
  if st ~= 'assigned' or not due or due > now + EPS then return {'noop', 'not waiting'} end
  wake_waiting(cid, now, 'timer')
  return {'woken', ''}
end

-- Hand an assigned conversation from `agent` to `to`, as transfer.lua does; `rec` is the choice.
local function handover(to, rec)
  redis.call('SREM', key_agent_convs(agent), cid)
  refresh_agent(agent)
  emit(agent, cjson.encode({type = 'unassigned', conversation_id = cid, reason = 'sla_reassigned'}))
  assign(cid, to, now, nil, rec)
  drain_agent(agent, now)
end

-- Who takes a conversation whose agent missed the first response: the pool's own choice (policy,
-- skills and levels, caps), passing over that agent; the sticky rule is skipped, since the
-- customer's last agent is the one who missed it. Returns the agent and the choice's record.
local function free_other_agent()
  local f = redis.call('HMGET', ck, 'skills', 'min_level', 'offered')
  local pools = {pool}
  if f[3] then for _, p in ipairs(cjson.decode(f[3])) do pools[#pools + 1] = p end end
  local opts = {exclude = agent, exclude_reason = 'missed_first_response', sticky = false}
  for _, p in ipairs(pools) do
    local to, rec = choose(cid, p, f[1], tonumber(f[2] or '1'), now, 'sla_reassign', opts)
    if to then return to, rec end
  end
  return nil, nil
end

-- To the supervisors' pool (front of its queue) unless a member already has it; always told.
local function escalate(s, p, reason)
  if s.escalated_at then return 'already' end
  s.escalated_at = now
  local target = (type(p.escalate) == 'table' and p.escalate.pool) or 'supervisors'
  local moved = 'kept'
  local mine = false
  if agent then
    for _, ap in ipairs(cjson.decode(redis.call('HGET', key_agent(agent), 'pools') or '[]')) do
      if ap == target then mine = true end
    end
  end
  if redis.call('SISMEMBER', KEY_POOLS, target) == 1 and not mine and (st == 'queued' or st == 'assigned') then
    if st == 'queued' and pool then redis.call('ZREM', key_pool_queue(pool), cid) end
    if agent then
      redis.call('SREM', key_agent_convs(agent), cid)
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
    widen = redis.call('SMEMBERS', KEY_POOLS)
    redis.call('HSET', ck, 'skills', '[]')
  else
    widen = {step.pool}
  end
  if num(step.min_level) then redis.call('HSET', ck, 'min_level', num(step.min_level)) end
  local offered = cjson.decode(redis.call('HGET', ck, 'offered') or '[]')
  local have = {[pool] = true}
  for _, p in ipairs(offered) do have[p] = true end
  local score = redis.call('ZSCORE', key_pool_queue(pool), cid) or
    queue_score(tonumber(redis.call('HGET', ck, 'priority') or '0'), tonumber(c[4] or now), false)
  for _, p in ipairs(widen) do
    if not have[p] and redis.call('SISMEMBER', KEY_POOLS, p) == 1 then
      have[p] = true
      offered[#offered + 1] = p
      redis.call('ZADD', key_pool_queue(p), score, cid)
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
  if redis.call('HSETNX', KEY_TASKS, id, task) == 1 then
    redis.call('ZADD', KEY_TASKS_INDEX, now, id)
    tell_supervisors(cjson.encode({type = 'task', task = cjson.decode(task)}))
  end
  return {'task', id}
end

if st == 'closed' or s.closed_at then return {'noop', 'closed'} end

-- A missed first response goes to another agent when the pool's policy finds one free. Returns
-- whether it moved; `agent` is then the new one, so an escalation below acts on them.
local function reassign()
  if st ~= 'assigned' or not agent or p.reassign == false then return false end
  local to, rec = free_other_agent()
  if not to then return false end
  s.reassigned_from = agent
  sla_save(cid, s)
  emit(agent, sla_frame(cid, s, 'breached', 'first_response'))
  handover(to, rec)
  agent = to
  return true
end

-- The three clocks share one course: a warning, then at the due time a breach. First response and
-- resolution run once (met, breached or never started: nothing to do); next response restarts
-- with each unanswered customer message, so it warns and breaches once per due time.
local CLOCKS = {
  first_response = {due = 'first_response_due', met = 'first_response_at'},
  next_response = {due = 'next_response_due'},
  resolution = {due = 'resolution_due', met = 'resolved_at'},
}
local target = (string.gsub(kind, '_warn$', ''))
local clock = CLOCKS[target]
if clock then
  local due, once = s[clock.due], clock.met ~= nil
  if not due or (once and (s[clock.met] or s.breaches[target])) then return {'noop', 'met'} end
  if kind ~= target then
    if (once and s.warned[target]) or s.warned[target] == due then return {'noop', 'warned'} end
    s.warned[target] = once and now or due
    sla_save(cid, s)
    tell_agent(cid, s, 'warning', target)
    return {'warning', agent or ''}
  end
  if now + EPS < due or (not once and (s.breaches[target] or 0) >= due) then return {'noop', 'early'} end
  s.breaches[target] = now
  hook_event(cid, 'sla.breached', cjson.encode({conversation_id = cid, target = target, agent_id = agent or '',
    due = due}), now)
  local outcome = 'breached'
  if target == 'first_response' and reassign() then outcome = 'reassigned' end
  sla_save(cid, s)
  if outcome == 'breached' then tell_agent(cid, s, 'breached', target) end
  if target == 'resolution' then tell_supervisors(sla_frame(cid, s, 'breached', target)) end
  on_breach(s, p, target)
  return {outcome, agent or ''}
end

if kind == 'escalate' then
  return {'escalated', escalate(s, p, 'escalate')}
end
return {'noop', 'unknown kind ' .. kind}
