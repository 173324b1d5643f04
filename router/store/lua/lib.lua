-- Shared prelude of the routing-domain scripts. Rendered by router/store/scripts.py, which fills in
--   __TRANSITIONS__ the conversation state machine (router/store/lifecycle.py)
-- and puts in front of it the key names the script uses (KEY_* constants and key_*() functions),
-- rendered from router/store/keys/ by router/store/lua_keys.py: no script spells a key itself.
-- Every routing key carries the {rt} hash tag, so one script stays in one Cluster slot.
local TRANSITIONS = __TRANSITIONS__
local EVENTS_MAXLEN = 2000

-- Moves a conversation, refusing what the state machine forbids. Callers check before any write,
-- because Redis does not roll back a script's earlier writes when it errors.
local function can_move(cur, to)
  return TRANSITIONS[cur] ~= nil and TRANSITIONS[cur][to] == true
end
local function move(cid, to)
  local cur = redis.call('HGET', key_conv(cid), 'state') or 'new'
  if not can_move(cur, to) then
    error('ILLEGAL_TRANSITION ' .. cur .. ' -> ' .. to)
  end
  redis.call('HSET', key_conv(cid), 'state', to)
end

-- Outbound webhooks (router/hooks/): what happened to a conversation goes on one capped stream in
-- the same step as the change itself, so no event is lost or made up; only while some webhook is
-- enabled (keys.hook_on). `data` is a JSON object's text; the entry id becomes the event's id.
local HOOK_EVENTS_MAXLEN = 100000
-- Whether some webhook is on, read once per script run: a new chat's route emits two events, and
-- no script turns webhooks on or off.
local _hooks_on = nil
local function hook_event(cid, etype, data, now)
  if _hooks_on == nil then _hooks_on = redis.call('EXISTS', KEY_HOOK_ON) == 1 end
  if not _hooks_on then return end
  redis.call('XADD', KEY_HOOK_EVENTS, 'MAXLEN', '~', HOOK_EVENTS_MAXLEN, '*', 'type', etype, 'cid', cid,
    'ts', tostring(now), 'data', data)
end

-- Frames for an agent go to a capped stream (replay) and to pub/sub (live), together. `live`, a
-- JSON member ('"name":value'), rides only on the published copy: what spares the socket a read
-- (assign's view), which a replay from the stream does without and reads instead.
local function emit(aid, frame, live)
  local id = redis.call('XADD', key_agent_events(aid), 'MAXLEN', '~', EVENTS_MAXLEN, '*', 'f', frame)
  if live then frame = string.sub(frame, 1, -2) .. ',' .. live .. '}' end
  redis.call(PUBLISH, KEY_AGENT_CHANNEL, aid .. '\n' .. id .. '\n' .. frame)
  return id
end
-- Customer frames that are not stored (queue position, assignment notices), addressed to the
-- conversation's reply address 'channel:chat', which is what a customer's socket knows.
local function emit_customer(cid, frame)
  local f = redis.call('HMGET', key_conv(cid), 'channel', 'chat')
  if f[1] and f[2] then redis.call(PUBLISH, KEY_CUSTOMER_CHANNEL, f[1] .. ':' .. f[2] .. '\n-\n' .. frame) end
end

-- Agent choice, queue order and the decision record: router/store/lua/policy.lua, rendered here.
__POLICY__

-- A conversation left or re-entered its pool's queue (assigned, closed, requeued): the customers
-- behind it have new places. One announcement per pool is scheduled `announce_delay_s` from now
-- (router/ops/queue_texts.py sends it): ZADD NX coalesces a burst of moves into one timer. Done
-- here, in the step that moved the conversation, rather than by every process that saw its frame
-- (which made a call per process per move, most of them finding the queue empty).
local function queue_moved(cid, now, pool)
  pool = pool or redis.call('HGET', key_conv(cid), 'pool')
  if not pool or pool == '' or redis.call('ZCARD', key_pool_queue(pool)) == 0 then return end
  local tid = 'announce:' .. pool
  local delay = tonumber(cfg().announce_delay_s) or 0.5
  if redis.call('ZADD', KEY_TIMERS_DUE, 'NX', now + delay, tid) == 1 then
    redis.call('HSET', KEY_TIMERS_DATA, tid, cjson.encode({kind = 'queue_announce', pool = pool}))
  end
end

-- An agent is in a pool's free set iff online and under cap. Called after every change to status,
-- cap or load, so the free sets are never stale.
local function refresh_agent(aid)
  local ak = key_agent(aid)
  local f = redis.call('HMGET', ak, 'status', 'cap', 'last_assigned_ms', 'pools')
  local load = redis.call('SCARD', key_agent_convs(aid))
  redis.call('HSET', ak, 'load', load)
  redis.call('HSET', KEY_AGENT_SLOTS, aid, load .. '/' .. (f[2] or '0'))
  local pools = cjson.decode(f[4] or '[]')
  local free = f[1] == 'online' and load < tonumber(f[2] or '0')
  local last_ms = tonumber(f[3] or '0')
  for _, pool in ipairs(pools) do
    if free then
      redis.call('ZADD', key_pool_free(pool), free_score(pool, load, last_ms), aid)
    else
      redis.call('ZREM', key_pool_free(pool), aid)
    end
  end
  return load
end

local function has_skills(aid, skills_json, min_level)
  return inspect(aid, decode_need(skills_json), min_level or 1).reason == nil
end

-- The fallback ladder (sla_lib.lua) may offer a waiting conversation to several pools; whichever
-- pool's agent takes it, or wherever it is requeued, it leaves every queue at once.
local function unoffer(cid)
  local ck = key_conv(cid)
  local offered = redis.call('HGET', ck, 'offered')
  if not offered then return end
  for _, p in ipairs(cjson.decode(offered)) do redis.call('ZREM', key_pool_queue(p), cid) end
  local pool = redis.call('HGET', ck, 'pool')
  if pool then redis.call('ZREM', key_pool_queue(pool), cid) end
  redis.call('HDEL', ck, 'offered')
end

-- What happened to a conversation, in order, for the archive (router/archive/snapshot.py);
-- keys.conv_trail. The hash keeps only the latest assignment.
-- Capped: a customer who keeps the bot talking for hours must not grow one key without bound.
-- Past the cap the oldest entries go, and the conversation's hash counts how many did.
local TRAIL_MAX = 1000
local function trail_text(cid, text)
  local n = redis.call('RPUSH', key_conv_trail(cid), text)
  if n > TRAIL_MAX then
    redis.call('LTRIM', key_conv_trail(cid), n - TRAIL_MAX, -1)
    redis.call('HINCRBY', key_conv(cid), 'trail_dropped', n - TRAIL_MAX)
  end
end
local function trail(cid, entry)
  trail_text(cid, cjson.encode(entry))
end

-- A close joins the archive queue (keys.archive_queue) in the same step as the close, so none is
-- missed. Its version counts closes: a re-closed conversation's newer row wins in the archive.
local function archive_closed(cid, now)
  local v = redis.call('HINCRBY', key_conv(cid), 'archive_v', 1)
  redis.call('XADD', KEY_ARCHIVE_QUEUE, '*', 'cid', cid, 'v', v, 'at', now)
  local f = redis.call('HMGET', key_conv(cid), 'agent', 'resolution', 'pool', 'customer')
  hook_event(cid, 'conversation.closed', cjson.encode({conversation_id = cid, agent_id = f[1] or '',
    resolution = f[2] or '', pool = f[3] or '', customer_id = f[4] or ''}), now)
end

local function enqueue(cid, pool, now, front)
  local ck = key_conv(cid)
  unoffer(cid)
  local prio = tonumber(redis.call('HGET', ck, 'priority') or '0')
  redis.call('HSET', ck, 'queued_at', now, 'pool', pool)
  redis.call('HDEL', ck, 'agent')
  redis.call('ZADD', key_pool_queue(pool), queue_score(prio, now, front), cid)
  trail(cid, {kind = 'queued', pool = pool, at = now})
end

-- Estimated wait from the pool's moving average of handle time and its online capacity.
-- A pool's recent handle time and the chats its online members can hold at once.
local function pool_capacity(pool)
  local avg = tonumber(redis.call('HGET', key_pool_stats(pool), 'avg_handle_s') or '180')
  local slots = 0
  for _, aid in ipairs(redis.call('SMEMBERS', key_pool_agents(pool))) do
    local f = redis.call('HMGET', key_agent(aid), 'status', 'cap')
    if f[1] == 'online' then slots = slots + tonumber(f[2] or '0') end
  end
  return avg, slots
end

local function queue_frame(cid, pool)
  local rank = redis.call('ZRANK', key_pool_queue(pool), cid)
  if not rank then return nil end
  local avg, slots = pool_capacity(pool)
  local eta = -1
  if slots > 0 then eta = math.ceil((rank + 1) * avg / slots) end
  return '{"type":"queue","conversation_id":"' .. cid .. '","position":' .. (rank + 1) ..
    ',"ahead":' .. rank .. ',"eta_s":' .. eta .. '}'
end

-- What an `assigned` frame shows of a conversation whose transcript is its trigger alone (a new
-- chat's first line): the conversation and customer hashes and the customer's identities, flat as
-- HGETALL gives them. The socket then builds the frame without reading Redis (router/ops/desk.py):
-- one round trip less per new chat. The transcript itself lives in another slot, so a conversation
-- with history gets no view and is read as before.
local function assigned_view(cid)
  local cust = customer_of(cid)
  local view = {conv = redis.call('HGETALL', key_conv(cid))}
  if cust ~= '' then
    view.customer = redis.call('HGETALL', key_customer(cust))
    view.idents = redis.call('SMEMBERS', key_customer_identities(cust))
  end
  return '"view":' .. cjson.encode(view)
end

-- `rec` is the choice's record (policy.lua): every caller has one, from choose() or single_record().
-- `fresh`: the transcript holds only `trigger`, so the published frame may carry the view.
local function assign(cid, aid, now, trigger, rec, fresh)
  local ck = key_conv(cid)
  unoffer(cid)
  move(cid, 'assigned')
  write_record(cid, rec)
  redis.call('HSET', ck, 'agent', aid, 'assigned_at', now)
  redis.call('HDEL', ck, 'avoid') -- a transfer's "not back to its sender" ends once someone has it
  local assigned_pool = redis.call('HGET', ck, 'pool') or ''
  trail(cid, {kind = 'assigned', agent = aid, pool = assigned_pool, at = now})
  hook_event(cid, 'conversation.assigned', cjson.encode({conversation_id = cid, agent_id = aid,
    pool = assigned_pool, customer_id = customer_of(cid)}), now)
  redis.call('SADD', key_agent_convs(aid), cid)
  redis.call('HSET', key_agent(aid), 'last_assigned_ms', math.floor(now * 1000))
  refresh_agent(aid)
  -- The customer's id rides along, so the frame's expansion reads their keys in the same round trip.
  local frame = '{"type":"assigned","conversation_id":"' .. cid .. '","customer_id":"' ..
    customer_of(cid) .. '"'
  if trigger then frame = frame .. ',"message":' .. trigger end
  emit(aid, frame .. '}', (trigger and fresh) and assigned_view(cid) or nil)
  -- The picture only when the agent has one (router/ops/pictures.py): the widget draws initials otherwise.
  local face = redis.call('HMGET', key_agent(aid), 'name', 'avatar')
  local agent = {id = aid, name = face[1] or aid}
  if face[2] and face[2] ~= '' then agent.avatar = face[2] end
  emit_customer(cid, cjson.encode({type = 'agent', conversation_id = cid, agent = agent}))
  queue_moved(cid, now, assigned_pool)
end

-- Draining considers the whole queue, so that conversations needing a skill nobody free has never
-- hide one behind them that a free agent could take. It reads the queue a page of DRAIN_PAGE
-- entries at a time, each entry at most once per drain, and stops at the first it can hand out.
-- A page's needs are read with one HMGET per entry (SORT ... GET would do it in one call, but
-- Redis 6.2 refuses GET patterns on a Cluster), and each distinct need (skills and level) is
-- judged once per drain, since the verdict is the same for every conversation with that need. So a
-- drain costs a few microseconds per entry it passes, plus one skill check (agent drain) or one
-- choice (pool drain) per distinct need: linear in the queue and with no fixed limit, because any
-- limit lets a conversation past it wait while a slot fits it (docs/assignment.md, "Draining").
local DRAIN_PAGE = 200

-- A page of the queue from rank `start`: the conversation ids, and their needs as one flat list
-- (skills JSON, level, skills JSON, level, ...).
local function queue_needs(pool, start)
  local ids = redis.call('ZRANGE', key_pool_queue(pool), start, start + DRAIN_PAGE - 1)
  local f = {}
  for i, cid in ipairs(ids) do
    local v = redis.call('HMGET', key_conv(cid), 'skills', 'min_level')
    f[2 * i - 1], f[2 * i] = v[1], v[2]
  end
  return f, ids
end

-- The slot of a need (skills JSON, then level) in a table of per-need answers for one drain.
local function need_slot(t, skills, level)
  local by_level = t[skills or '']
  if not by_level then
    by_level = {}
    t[skills or ''] = by_level
  end
  return by_level, level or '1'
end

-- The rank of the first waiting conversation in `pool`, from rank `from` on, that `aid` has the
-- skills for, or nil. `verdicts` is per agent and may be shared across that agent's pools.
local function first_for_agent(pool, aid, from, verdicts)
  local start = from
  while true do
    local f, ids = queue_needs(pool, start)
    for i = 1, #f, 2 do
      local t, level = need_slot(verdicts, f[i], f[i + 1])
      if t[level] == nil then t[level] = has_skills(aid, f[i], tonumber(level)) end
      -- A conversation this agent transferred away waits for someone else (transfer.lua).
      if t[level] and redis.call('HGET', key_conv(ids[(i + 1) / 2]), 'avoid') ~= aid then
        return start + (i - 1) / 2
      end
    end
    if #f < 2 * DRAIN_PAGE then return nil end
    start = start + DRAIN_PAGE
  end
end

-- Capacity appeared in `pool`'s queue side: hand out conversations in queue order while agents
-- are free, each by the pool's policy. One pass suffices: a conversation that nobody free could
-- take stays so for the rest of the drain (handing out only uses capacity up), and so does every
-- conversation with the same need, which is then passed over without asking the policy again.
local function drain_pool(pool, now)
  local key, free_key = key_pool_queue(pool), key_pool_free(pool)
  local assigned, start, hopeless = 0, 0, {}
  while redis.call('ZCARD', free_key) > 0 do
    local f, ids = queue_needs(pool, start)
    local taken = 0
    for i = 1, #f, 2 do
      local t, level = need_slot(hopeless, f[i], f[i + 1])
      if not t[level] then
        local cid = ids[(i + 1) / 2]
        -- A transferred conversation passes over its sender (transfer.lua sets `avoid`); its
        -- "nobody" says nothing about others with the same need, so it is not remembered.
        local avoid = redis.call('HGET', key_conv(cid), 'avoid')
        local opts = avoid and {exclude = avoid, exclude_reason = 'transferred_away', sticky = false} or nil
        local aid, rec = choose(cid, pool, f[i], tonumber(level), now, 'queue', opts)
        if aid then
          redis.call('ZREM', key, cid)
          assign(cid, aid, now, nil, rec)
          assigned, taken = assigned + 1, taken + 1
          if redis.call('ZCARD', free_key) == 0 then return assigned end
        elseif not avoid then
          t[level] = true
        end
      end
    end
    if #f < 2 * DRAIN_PAGE then break end
    start = start + DRAIN_PAGE - taken
  end
  return assigned
end

-- Capacity appeared on one agent: give them the most urgent conversation across their pools.
-- Between two hand-outs nothing but the one handed out leaves the queues, and nothing joins, so
-- each pool's scan resumes where it found its candidate: what lay before it still does not fit.
local function drain_agent(aid, now)
  local n = 0
  local from, verdicts = {}, {}  -- per pool the rank to resume at (false: nothing there fits)
  while true do
    local f = redis.call('HMGET', key_agent(aid), 'status', 'cap', 'pools')
    local load = redis.call('SCARD', key_agent_convs(aid))
    if f[1] ~= 'online' or load >= tonumber(f[2] or '0') then break end
    local best, best_score, best_pool = nil, nil, nil
    for _, pool in ipairs(cjson.decode(f[3] or '[]')) do
      if from[pool] ~= false then
        local rank = first_for_agent(pool, aid, from[pool] or 0, verdicts)
        from[pool] = rank or false
        if rank then
          local e = redis.call('ZRANGE', key_pool_queue(pool), rank, rank, 'WITHSCORES')
          local score = tonumber(e[2])
          if best_score == nil or score < best_score then best, best_score, best_pool = e[1], score, pool end
        end
      end
    end
    if not best then break end
    redis.call('ZREM', key_pool_queue(best_pool), best)
    assign(best, aid, now, nil, single_record(aid, best_pool, 'agent_free', now))
    n = n + 1
  end
  return n
end

-- A conversation that has just become people's (a new one, or the bot handing off): queue it, and
-- give it at once to the agent the policy chooses; otherwise tell the customer their place.
-- `trigger` is the message JSON that rides on the assigned frame (or nil); `fresh`: it is the
-- whole transcript (assign). Returns the queue frame sent, or ''.
local function queue_and_offer(cid, pool, skills_json, min_level, now, why, trigger, fresh)
  move(cid, 'queued')
  enqueue(cid, pool, now, false)
  local aid, rec = choose(cid, pool, skills_json, min_level, now, why)
  if aid then
    redis.call('ZREM', key_pool_queue(pool), cid)
    assign(cid, aid, now, trigger, rec, fresh)
    return ''
  end
  write_record(cid, rec)
  local qframe = queue_frame(cid, pool) or ''
  if qframe ~= '' then emit_customer(cid, qframe) end
  return qframe
end
