-- Discount approvals: an agent's request, and a supervisor's answer. One script, so the state,
-- the pending index and the frames to the agent and the supervisors change together.
-- KEYS[1] anchor. ARGV[1] = 'request' | 'answer'.
--   request: apid, agent, cid, amount, reason, now, limit, client_msg_id, force
--   answer:  apid, actor, approved ('1'|'0'), note, now
-- Returns {'ok', approval_json, is_new} or {'err', code, approval_json?}.
local op = ARGV[1]


local function view(apid)
  local h = redis.call('HGETALL', key_approval(apid))
  local v = {}
  for i = 1, #h, 2 do v[h[i]] = h[i + 1] end
  v.amount = tonumber(v.amount)
  v.created = tonumber(v.created)
  v.answered_at = tonumber(v.answered_at)
  v.limit = tonumber(v.limit)
  v.auto = v.auto == '1'
  return v
end

-- Supervisors and admins who are not offline; the requester is told separately.
local function supervisors(except)
  local out = {}
  for _, aid in ipairs(redis.call('SMEMBERS', KEY_AGENTS)) do
    local f = redis.call('HMGET', key_agent(aid), 'role', 'status')
    if aid ~= except and (f[1] == 'supervisor' or f[1] == 'admin') and f[2] and f[2] ~= 'offline' then
      out[#out + 1] = aid
    end
  end
  return out
end

if op == 'request' then
  local apid, aid, cid, amount, reason, now = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
  local limit, client_id, force = ARGV[8], ARGV[9], ARGV[10]
  local seen = key_approval_seen(aid, client_id)
  local earlier = redis.call('GET', seen)
  if earlier then
    -- A resend (lost answer, reconnect) is told the approval's current state, and nobody else.
    local v = view(earlier)
    emit(aid, cjson.encode({type = 'approval', approval = v}))
    return {'ok', cjson.encode(v), 0}
  end
  local f = redis.call('HMGET', key_conv(cid), 'state', 'agent')
  if not f[1] then return {'err', 'unknown_conversation'} end
  if f[1] == 'closed' then return {'err', 'closed'} end
  if force ~= '1' and f[2] ~= aid then return {'err', 'not_assigned_to_you'} end
  local auto = tonumber(amount) <= tonumber(limit)
  local state = auto and 'approved' or 'pending'
  redis.call('HSET', key_approval(apid), 'id', apid, 'agent', aid, 'conversation_id', cid, 'amount', amount,
    'reason', reason, 'state', state, 'auto', auto and '1' or '0', 'limit', limit, 'created', now,
    'client_msg_id', client_id)
  redis.call('SET', seen, apid, 'EX', 86400)
  local v = view(apid)
  if not auto then
    redis.call('ZADD', KEY_APPROVALS_PENDING, now, apid)
    local frame = cjson.encode({type = 'approval_request', approval = v})
    for _, sup in ipairs(supervisors(aid)) do emit(sup, frame) end
  end
  emit(aid, cjson.encode({type = 'approval', approval = v}))
  return {'ok', cjson.encode(v), 1}
end

local apid, actor, approved, note, now = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local ak = key_approval(apid)
if redis.call('EXISTS', ak) == 0 then return {'err', 'unknown_approval'} end
if redis.call('HGET', ak, 'state') ~= 'pending' then
  return {'err', 'already_answered', cjson.encode(view(apid))}
end
local state = approved == '1' and 'approved' or 'rejected'
redis.call('HSET', ak, 'state', state, 'note', note, 'answered_by', actor, 'answered_at', now)
redis.call('ZREM', KEY_APPROVALS_PENDING, apid)
local v = view(apid)
local frame = cjson.encode({type = 'approval', approval = v})
emit(v.agent, frame)
for _, sup in ipairs(supervisors(v.agent)) do emit(sup, frame) end
return {'ok', cjson.encode(v), 1}
