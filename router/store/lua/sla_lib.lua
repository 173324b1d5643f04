-- SLA clocks, durable timers and the fallback ladder: the second part of the routing prelude,
-- after lib.lua (router/store/scripts.py joins them). router/ops/sla.py describes the behaviour.
-- A conversation's SLA record is one JSON field, `sla`, of its hash; every due time is also a
-- timer in KEY_TIMERS_DUE, named '<cid>:<kind>', and the fire script re-checks the record, so a
-- stale or repeated timer changes nothing.

-- `more` (optional): further fields of the payload, for kinds whose handler needs them.
local function timer_at(tid, due, kind, cid, n, more)
  local data = more or {}
  data.kind, data.cid, data.n = kind, cid, n or 0
  redis.call('ZADD', KEY_TIMERS_DUE, due, tid)
  redis.call('HSET', KEY_TIMERS_DATA, tid, cjson.encode(data))
end

-- A step that hands a chat on (status.lua: its agent went offline; transfer.lua) owes it a note,
-- and perhaps a customer text, in the transcript's and the outbox's slots, which this script may
-- not touch on Redis Cluster. This durable timer, due now and carrying the step's entry, is the
-- step's record of that debt; router/ops/handover.py pays it, keyed by `kind` and the entry's id.
local function owe_followup(kind, entry, now)
  local cid = entry.conversation_id
  timer_at(cid .. ':' .. kind .. ':' .. entry.id, now, kind, cid, 0, {[kind] = entry})
end

local function timer_cancel(tid)
  redis.call('ZREM', KEY_TIMERS_DUE, tid)
  redis.call('HDEL', KEY_TIMERS_DATA, tid)
end

-- The ack: a timer rescheduled while it was in flight keeps its data for the next firing.
local function timer_ack(tid)
  redis.call('ZREM', KEY_TIMERS_INFLIGHT, tid)
  if not redis.call('ZSCORE', KEY_TIMERS_DUE, tid) then redis.call('HDEL', KEY_TIMERS_DATA, tid) end
end

-- JSON null and absent both mean "not set".
local function num(v)
  if v == nil or v == cjson.null then return nil end
  return tonumber(v)
end

local function sla_profile(name)
  local raw = redis.call('HGET', KEY_SLA_PROFILES, name)
  if raw then return cjson.decode(raw) end
  return nil
end

local function sla_load(cid)
  local raw = redis.call('HGET', key_conv(cid), 'sla')
  if not raw then return nil end
  local s = cjson.decode(raw)
  if type(s.breaches) ~= 'table' then s.breaches = {} end
  if type(s.warned) ~= 'table' then s.warned = {} end
  return s
end

local function sla_state(s)
  if s.unknown then return 'none' end
  if next(s.breaches) ~= nil then return 'breached' end
  if s.paused_at then return 'paused' end
  if s.closed_at then return 'met' end
  if (s.first_response_due and not s.first_response_at) or s.next_response_due
    or (s.resolution_due and not s.resolved_at) then
    return 'due'
  end
  return 'met'
end

local function sla_save(cid, s)
  s.state = sla_state(s)
  redis.call('HSET', key_conv(cid), 'sla', cjson.encode(s))
end

local function sla_frame(cid, s, event, target)
  return cjson.encode({type = 'sla', conversation_id = cid, sla = s, event = event, target = target})
end

local function tell_agent(cid, s, event, target)
  local aid = redis.call('HGET', key_conv(cid), 'agent')
  if aid then emit(aid, sla_frame(cid, s, event, target)) end
end

-- Supervisors and admins who are not offline; bounded by the configured agents.
local function tell_supervisors(frame)
  for _, aid in ipairs(redis.call('SMEMBERS', KEY_AGENTS)) do
    local f = redis.call('HMGET', key_agent(aid), 'role', 'status')
    if (f[1] == 'supervisor' or f[1] == 'admin') and f[2] ~= 'offline' then emit(aid, frame) end
  end
end

-- Start the clocks of a conversation that has just gone to a human queue: SLA targets from its
-- decision's profile, and one timer per rung of its fallback ladder.
local function sla_start(cid, now)
  local ck = key_conv(cid)
  local dec = cjson.decode(redis.call('HGET', ck, 'decision') or '{}')
  if type(dec.fallback) == 'table' then
    for i, step in ipairs(dec.fallback) do
      local after = num(step.after_s)
      if after then timer_at(cid .. ':fb:' .. i, now + after, 'fallback', cid, i) end
    end
  end
  local name = dec.sla_profile
  if name == nil or name == cjson.null then
    redis.call('HDEL', ck, 'sla')
    return
  end
  local p = sla_profile(name)
  if not p then
    sla_save(cid, {profile = name, unknown = true, breaches = {}})
    return
  end
  local s = {profile = name, started = now, breaches = {}, warned = {}}
  local warn = num(p.warn_at)
  local fr, res = num(p.first_response), num(p.resolution)
  if fr then
    s.first_response_due = now + fr
    timer_at(cid .. ':first', now + fr, 'first_response', cid)
    if warn then timer_at(cid .. ':first_warn', now + fr * warn, 'first_response_warn', cid) end
  end
  if res then
    s.resolution_due = now + res
    timer_at(cid .. ':resolve', now + res, 'resolution', cid)
    if warn then timer_at(cid .. ':resolve_warn', now + res * warn, 'resolution_warn', cid) end
  end
  if type(p.escalate) == 'table' and num(p.escalate.after) then
    s.escalate_at = now + num(p.escalate.after)
    timer_at(cid .. ':escalate', s.escalate_at, 'escalate', cid)
  end
  if type(p.follow_up) == 'table' then
    for i, f in ipairs(p.follow_up) do
      timer_at(cid .. ':follow_up:' .. i, now + num(f.after), 'follow_up', cid, i)
    end
  end
  -- The customer is told when to expect an answer (router/ops/promises.py words and sends it), once
  -- per conversation: a reopen or a second handoff does not repeat it.
  if p.promise and redis.call('HSETNX', ck, 'promised', now) == 1 then
    timer_at(cid .. ':promise', now, 'promise', cid)
  end
  sla_save(cid, s)
end

-- A customer message after the first answer starts the next-response clock, unless it already
-- runs: the clock counts from the oldest unanswered message, so writing again never resets it.
local function sla_customer_message(cid, now)
  local s = sla_load(cid)
  if not s or s.unknown or not s.first_response_at or s.next_response_due or s.closed_at then return end
  local p = sla_profile(s.profile)
  local nr = p and num(p.next_response)
  if not nr then return end
  s.next_response_due = now + nr
  timer_at(cid .. ':next', now + nr, 'next_response', cid)
  if num(p.warn_at) then
    timer_at(cid .. ':next_warn', now + nr * num(p.warn_at), 'next_response_warn', cid)
  end
  sla_save(cid, s)
  tell_agent(cid, s, 'due', 'next_response')  -- the console's countdown restarts
end

-- An agent answered: the first response (once) and any running next-response clock are met.
local function sla_replied(cid, aid, now)
  local s = sla_load(cid)
  if not s or s.unknown or s.closed_at then return end
  if s.paused_at then s.paused = {} end  -- answered while waiting: nothing to resume
  local met = nil
  if s.first_response_due and not s.first_response_at then
    s.first_response_at = now
    timer_cancel(cid .. ':first')
    timer_cancel(cid .. ':first_warn')
    if not s.breaches.first_response then met = 'first_response' end
  elseif s.next_response_due then
    if not s.breaches.next_response or s.breaches.next_response < s.next_response_due then
      met = 'next_response'
    end
    s.next_response_due = nil
    timer_cancel(cid .. ':next')
    timer_cancel(cid .. ':next_warn')
  elseif not s.first_response_at then
    s.first_response_at = now
  end
  sla_save(cid, s)
  if met then emit(aid, sla_frame(cid, s, 'met', met)) end
end

-- Closing resolves: every clock but the follow-up tasks stops.
local function sla_closed(cid, now)
  local s = sla_load(cid)
  if not s or s.unknown or s.closed_at then return end
  s.closed_at = now
  if s.resolution_due and not s.resolved_at then s.resolved_at = now end
  s.next_response_due = nil
  for _, kind in ipairs({'first', 'first_warn', 'next', 'next_warn', 'resolve', 'resolve_warn', 'escalate'}) do
    timer_cancel(cid .. ':' .. kind)
  end
  sla_save(cid, s)
end

-- Waiting for the customer (wait.lua): the first- and next-response clocks stop, keeping what was
-- left of each, and go on with that when the chat wakes. Resolution and follow-ups keep running.
local function sla_pause(cid, now)
  local s = sla_load(cid)
  if not s or s.unknown or s.closed_at or s.paused_at then return end
  local left = {}
  if s.first_response_due and not s.first_response_at then
    left.first = math.max(0, s.first_response_due - now)
    s.first_response_due = nil
  end
  if s.next_response_due then
    left.next = math.max(0, s.next_response_due - now)
    s.next_response_due = nil
  end
  for _, kind in ipairs({'first', 'first_warn', 'next', 'next_warn'}) do timer_cancel(cid .. ':' .. kind) end
  s.paused, s.paused_at = left, now
  sla_save(cid, s)
end

local function sla_resume(cid, now)
  local s = sla_load(cid)
  if not s or not s.paused_at then return end
  local left = type(s.paused) == 'table' and s.paused or {}
  local p = sla_profile(s.profile) or {}
  local warn = num(p.warn_at)
  local clocks = {{'first', 'first_response', 'first_response_due'}, {'next', 'next_response', 'next_response_due'}}
  local target = nil
  for _, c in ipairs(clocks) do
    local rest = num(left[c[1]])
    if rest and not (c[1] == 'first' and s.first_response_at) then
      local due = now + rest
      s[c[3]] = due
      timer_at(cid .. ':' .. c[1], due, c[2], cid)
      local full = num(p[c[2]])
      if warn and full and due - full * (1 - warn) > now then
        timer_at(cid .. ':' .. c[1] .. '_warn', due - full * (1 - warn), c[2] .. '_warn', cid)
      end
      target = target or c[2]
    end
  end
  s.paused, s.paused_at = nil, nil
  sla_save(cid, s)
  if target then tell_agent(cid, s, 'due', target) end
end

-- A waiting chat wakes: the customer wrote, its time came, its agent took it back, or it left
-- them. Its agent hears `waiting` false with why. Returns whether it was waiting.
local function wake_waiting(cid, now, why)
  local ck = key_conv(cid)
  if redis.call('HGET', ck, 'waiting') ~= '1' then return false end
  redis.call('HDEL', ck, 'waiting', 'waiting_until', 'waiting_since')
  timer_cancel(cid .. ':wake')
  sla_resume(cid, now)
  local aid = redis.call('HGET', ck, 'agent')
  if aid then
    emit(aid, cjson.encode({type = 'waiting', conversation_id = cid, waiting = false, reason = why}))
  end
  return true
end
