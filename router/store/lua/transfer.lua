-- Move a conversation to another agent or pool. Never drops it: a full target means the front of
-- the target's queue. The giver's freed slot is offered to waiting work at once.
-- The transfer's note for the transcript is owed in this same step: a `transfer` timer, due now,
-- carrying the transfer; its handler (router/ops/handover.py) writes the note, which lives in another
-- slot than this script's, once, and shows it live to the agent who has the chat. The timer is
-- durable, so a crash after this step delays the note but cannot lose it.
-- KEYS[1] anchor. ARGV: cid, actor, force, kind ('agent'|'pool'), target, now, note (text),
-- transfer id (unique; the note's key).
-- Returns {status, outcome, agent_or_pool}.
local cid, actor, force, kind, target, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6])
local note_text, id = ARGV[7] or '', ARGV[8]
-- Checked before any write: Redis does not roll back a script that errors halfway.
if not id or id == '' then return {'err', 'missing transfer id', ''} end
local ck = key_conv(cid)
local f = redis.call('HMGET', ck, 'state', 'agent', 'pool')
local st, from, pool = f[1], f[2], f[3]
if not st then return {'err', 'unknown_conversation', ''} end
if st == 'closed' then return {'err', 'conversation is closed', ''} end
if force ~= '1' and from ~= actor then return {'err', 'not_assigned_to_you', ''} end

local to_pool = target
if kind == 'agent' then
  local tk = key_agent(target)
  if redis.call('EXISTS', tk) == 0 then return {'err', 'unknown_agent', ''} end
  if target == from then return {'err', 'already assigned to ' .. target, ''} end
  local tp = cjson.decode(redis.call('HGET', tk, 'pools') or '[]')
  to_pool = tp[1] or pool
else
  if redis.call('SISMEMBER', KEY_POOLS, target) == 0 then return {'err', 'unknown_pool', ''} end
end
if not can_move(st, 'queued') and not can_move(st, 'assigned') then
  return {'err', 'cannot transfer in state ' .. st, ''}
end

if st == 'queued' then redis.call('ZREM', key_pool_queue(pool), cid) end
if from then
  wake_waiting(cid, now, 'transferred')  -- the next agent gets it active, its clocks running
  redis.call('SREM', key_agent_convs(from), cid)
  refresh_agent(from)
  emit(from, cjson.encode({type = 'unassigned', conversation_id = cid, reason = 'transferred'}))
end

local outcome, who = 'queued', to_pool
local tf = kind == 'agent' and redis.call('HMGET', key_agent(target), 'status', 'cap') or nil
if tf and tf[1] == 'online' and redis.call('SCARD', key_agent_convs(target)) < tonumber(tf[2] or '0') then
  redis.call('HSET', ck, 'pool', to_pool)
  -- queued -> assigned, or assigned -> assigned (a handover)
  assign(cid, target, now, nil, single_record(target, to_pool, 'transfer', now))
  outcome, who = 'assigned', target
else
  if st ~= 'queued' then move(cid, 'queued') end
  -- Nobody named could take it: it waits in the pool for someone other than its sender, who chose
  -- to hand it on (issue 19: a transfer came straight back to the sender as their slot freed).
  if from then redis.call('HSET', ck, 'avoid', from) end
  enqueue(cid, to_pool, now, true)
  drain_pool(to_pool, now)
  if redis.call('HGET', ck, 'state') == 'assigned' then
    outcome, who = 'assigned', redis.call('HGET', ck, 'agent')
  end
end
if from then
  drain_agent(from, now)
  -- The giver may still read what they handed on (a note, a follow-up): with the agents a note
  -- named, and kept with the archived conversation (router/archive/snapshot.py).
  redis.call('SADD', key_conv_readers(cid), from)
end
trail(cid, {kind = 'transfer', from = from or '', by = actor, to_kind = kind, target = target,
  outcome = outcome, to = who, at = now})
hook_event(cid, 'conversation.transferred', cjson.encode({conversation_id = cid, from_agent = from or '',
  by = actor, to_kind = kind, target = target, outcome = outcome, to = who or ''}), now)
owe_followup('transfer', {id = id, conversation_id = cid, by = actor, outcome = outcome, to = who,
  note = note_text}, now)
return {'ok', outcome, who}
