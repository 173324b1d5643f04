-- Choosing an agent and ordering queues (docs/assignment.md). Rendered into lib.lua's prelude at
-- its __POLICY__ line, so it sees the key helpers above it and lib.lua's assign/drain see it.
-- Settings come from the {rt}assign:settings hash that every process writes at start
-- (router/pipeline/assignment.py); a field missing there falls back to the default below.
local ASSIGN_DEFAULTS = {
  policy = 'least_loaded', sticky_s = '172800', aging_s = '6', weighted = '0',
  weight_after_s = '600', weight_fraction = '0.5', record_limit = '20', announce_delay_s = '0.5',
}
local IDLE_SPAN = 4398046511104 -- 2^42: milliseconds fit below it, load goes above
local FRONT = 1e13              -- requeues and transfers sit ahead of every ordinary entry
local STRICT_STEP = 1e8         -- aging off: one priority point outweighs three years of waiting
local TIE_SCAN = 16             -- equal scores examined for the skill-level tie-break
local FIRST_PAGE = 8            -- the first free agents read at once: one of them qualifies most often
local MAX_PAGE = 64             -- pages double up to this when the head of the free set lacks the skills
local WEIGHT_SCAN = 32          -- eligible agents compared when weighted load is on

local DRY = false               -- set by choose.lua: look, record, change nothing

-- A conversation's customer, read once per script run: a new chat's route needs it four times
-- (the sticky agent, the assigned event, its hook event, its view). Only customer_link.lua changes
-- it, and that script does not read it through here.
local _customer_of = {}
local function customer_of(cid)
  local c = _customer_of[cid]
  if c == nil then
    c = redis.call('HGET', key_conv(cid), 'customer') or ''
    _customer_of[cid] = c
  end
  return c
end
local _cfg = nil
local function cfg()
  if _cfg then return _cfg end
  local c = {}
  for k, v in pairs(ASSIGN_DEFAULTS) do c[k] = v end
  local raw = redis.call('HGETALL', KEY_ASSIGN_SETTINGS)
  for i = 1, #raw, 2 do c[raw[i]] = raw[i + 1] end
  _cfg = c
  return c
end

local function pool_policy(pool)
  local c = cfg()
  return c['policy:' .. pool] or c.policy
end

-- Free-set score under the pool's policy: the set is then scanned in order, so the first agent
-- who qualifies is the policy's choice (ties aside). Round robin scans by agent id instead.
local function free_score(pool, load, last_ms)
  local p = pool_policy(pool)
  if p == 'round_robin' then return 0 end
  if p == 'longest_idle' then return last_ms end
  return load * IDLE_SPAN + last_ms
end

-- Queue score, lowest first. With aging each priority point is worth aging_s seconds of waiting,
-- so a long wait overtakes a slightly higher priority; equal priorities stay first come first served.
local function queue_score(priority, since_s, front)
  local step = tonumber(cfg().aging_s) or 0
  if step <= 0 then step = STRICT_STEP end
  local score = since_s - priority * step
  if front then score = score - FRONT end
  return score
end

local function decode_need(skills_json)
  if skills_json == nil or skills_json == false or skills_json == '' or skills_json == '[]' then
    return {}
  end
  return cjson.decode(skills_json)
end

-- One agent checked on its own (the sticky agent, a drain's freed agent, the record's rest): live
-- load, cap and the needed skills' levels in one HMGET of the sk:<skill> fields agent_sync writes,
-- so no JSON is decoded. Scans of the free set read levels a page at a time instead (read_levels).
local function inspect(aid, need, min_level)
  local fields = {'load', 'cap', 'status'}
  for _, s in ipairs(need) do fields[#fields + 1] = 'sk:' .. s end
  local v = redis.call('HMGET', key_agent(aid), unpack(fields))
  local info = {load = tonumber(v[1] or '0'), cap = tonumber(v[2] or '0'), status = v[3] or 'offline', level = 0}
  for i, s in ipairs(need) do
    local l = tonumber(v[3 + i])
    if not l then info.reason = 'missing_skill:' .. s return info end
    if l < min_level then info.reason = 'level_below:' .. s return info end
    info.level = info.level + l
  end
  return info
end

-- The needed skills' levels of a page of agents from a pool's free set, in one HMGET per needed
-- skill however long the page. A scan's cost is in calls into Redis and in tables built, so it
-- makes one table per call and reads an agent's entry only when it gets to that agent. Being in
-- the free set means online and under cap (refresh_agent keeps it so), so status is not read.
local function read_levels(aids, need)
  local levels = {}
  for j = 1, #need do levels[j] = redis.call('HMGET', key_skill_levels(need[j]), unpack(aids)) end
  return levels
end

-- Why the i-th agent of a page lacks the needed skills (nil if it has them), and its total level.
local function page_verdict(levels, i, need, min_level)
  local sum = 0
  for j = 1, #need do
    local l = tonumber(levels[j][i])
    if not l then return 'missing_skill:' .. need[j], 0 end
    if l < min_level then return 'level_below:' .. need[j], 0 end
    sum = sum + l
  end
  return nil, sum
end

-- An KEY_AGENT_SLOTS entry, 'load/cap'.
local function parse_slots(v)
  local load, cap = string.match(v or '', '^(%d+)/(%d+)$')
  return tonumber(load) or 0, tonumber(cap) or 0
end

-- The reason an agent outside the free set cannot take work.
local function unavailable_reason(info)
  if info.status ~= 'online' then return info.status end
  if info.load >= info.cap then return 'at_cap' end
  return nil
end

-- Open conversations idle on the customer's side for long count as a fraction of a slot. The
-- cap still counts every conversation; this only changes who looks least loaded.
local function weighted_load(aid, load, now)
  local c = cfg()
  local after, frac = tonumber(c.weight_after_s), tonumber(c.weight_fraction)
  local eff = 0
  for _, cid in ipairs(redis.call('SMEMBERS', key_agent_convs(aid))) do
    local f = redis.call('HMGET', key_conv(cid), 'waiting_on', 'last_out_at')
    if f[1] == 'customer' and now - tonumber(f[2] or now) > after then eff = eff + frac else eff = eff + 1 end
  end
  if eff == 0 then return load end
  return eff
end

local function new_record(pool, trigger, now)
  return {policy = pool_policy(pool), pool = pool, trigger = trigger, at = now,
    candidates = {}, examined = 0, limit = tonumber(cfg().record_limit), seen = {}, dry = DRY}
end

local function note(rec, aid, eligible, reason, load, cap)
  rec.examined = rec.examined + 1
  rec.seen[aid] = true
  if #rec.candidates < rec.limit then
    rec.candidates[#rec.candidates + 1] = {agent = aid, eligible = eligible, reason = reason, load = load, cap = cap}
  end
end

-- Scans note candidates without their load; one HMGET fills in the recorded ones at the end, so
-- a long page costs no more than the agents the record keeps.
local function fill_slots(rec)
  local aids, at = {}, {}
  for _, c in ipairs(rec.candidates) do
    if c.load == nil then
      aids[#aids + 1] = c.agent
      at[#aids] = c
    end
  end
  if #aids == 0 then return end
  local slots = redis.call('HMGET', KEY_AGENT_SLOTS, unpack(aids))
  for i, c in ipairs(at) do c.load, c.cap = parse_slots(slots[i]) end
end

local function mark_chosen(rec, aid, reason)
  rec.chosen = aid
  for _, c in ipairs(rec.candidates) do
    if c.agent == aid then c.reason = reason end
  end
end

-- The customer's last agent, if within the window and able to take the conversation now.
local function try_sticky(rec, cid, pool, need, min_level, now)
  local window = tonumber(cfg().sticky_s)
  if window <= 0 then return nil end
  local cust = customer_of(cid)
  if cust == '' then return nil end
  local s = redis.call('HMGET', key_customer(cust), 'last_agent', 'last_agent_at')
  local aid = s[1]
  if not aid then return nil end
  if now - tonumber(s[2] or '0') > window then
    rec.sticky = {agent = aid, outcome = 'expired'}
    return nil
  end
  local info = inspect(aid, need, min_level)
  local reason = info.reason or unavailable_reason(info)
  if not reason and not redis.call('ZSCORE', key_pool_free(pool), aid) then reason = 'not_in_pool' end
  rec.sticky = {agent = aid, outcome = reason or 'chosen'}
  note(rec, aid, reason == nil, reason or 'sticky', info.load, info.cap)
  if reason then return nil end
  return aid
end

-- Among the free agents scored exactly like `aid` (same load and idle time: in practice only when
-- nobody has been assigned yet), the higher total skill level wins.
local function break_tie(rec, key, aid, level, need, min_level)
  local score = redis.call('ZSCORE', key, aid)
  local tied = redis.call('ZRANGE', key, score, score, 'BYSCORE', 'LIMIT', 0, TIE_SCAN)
  if #tied < 2 then return aid end
  local levels = read_levels(tied, need)
  local best, best_level = aid, level
  for i, other in ipairs(tied) do
    if not rec.seen[other] then
      local reason, l = page_verdict(levels, i, need, min_level)
      note(rec, other, reason == nil, reason or 'eligible')
      if not reason and l > best_level then best, best_level = other, l end
    end
  end
  return best
end

-- A pool's free set in order, a page at a time: FIRST_PAGE agents, then pages doubling up to
-- MAX_PAGE, since a short first page nearly always holds the choice.
local function free_pages(key, withscores)
  local start, chunk = 0, FIRST_PAGE
  return function()
    local stop = start + chunk - 1
    local page
    if withscores then page = redis.call('ZRANGE', key, start, stop, 'WITHSCORES')
    else page = redis.call('ZRANGE', key, start, stop) end
    start, chunk = stop + 1, math.min(2 * chunk, MAX_PAGE)
    if #page > 0 then return page end
  end
end

-- Least loaded / longest idle: the free set is already in the policy's order, so the first agent
-- with the skills is the choice (ties aside).
local function scan_ordered(rec, pool, need, min_level)
  local key = key_pool_free(pool)
  for page in free_pages(key, false) do
    local levels = read_levels(page, need)
    for i, aid in ipairs(page) do
      if not rec.seen[aid] then
        local reason, level = page_verdict(levels, i, need, min_level)
        note(rec, aid, reason == nil, reason or 'eligible')
        if not reason then return break_tie(rec, key, aid, level, need, min_level) end
      end
    end
  end
  return nil
end

-- Least loaded with weighted load: the free set is in load order, and an agent's weighted load is
-- at least `weight_fraction` of its load, so the scan stops once nobody further on can beat the
-- best; ties go to the longer idle, then the higher level. At most WEIGHT_SCAN eligible agents
-- are weighed, because weighing reads each one's open conversations.
local function scan_weighted(rec, pool, need, min_level, now)
  local key = key_pool_free(pool)
  local frac = tonumber(cfg().weight_fraction)
  local best, best_eff, best_idle, best_level, eligible = nil, nil, nil, -1, 0
  for page in free_pages(key, true) do
    local aids = {}
    for i = 1, #page, 2 do aids[#aids + 1] = page[i] end
    local levels = read_levels(aids, need)
    local slots = redis.call('HMGET', KEY_AGENT_SLOTS, unpack(aids))
    for i, aid in ipairs(aids) do
      local score = tonumber(page[2 * i])
      if best_eff and math.floor(score / IDLE_SPAN) * frac > best_eff then return best end
      if not rec.seen[aid] then
        local reason, level = page_verdict(levels, i, need, min_level)
        local load, cap = parse_slots(slots[i])
        if reason then
          note(rec, aid, false, reason, load, cap)
        else
          local eff, idle = weighted_load(aid, load, now), score % IDLE_SPAN
          note(rec, aid, true, 'eligible', eff, cap)
          eligible = eligible + 1
          if best_eff == nil or eff < best_eff or
            (eff == best_eff and (idle < best_idle or (idle == best_idle and level > best_level))) then
            best, best_eff, best_idle, best_level = aid, eff, idle, level
          end
          if eligible >= WEIGHT_SCAN then return best end
        end
      end
    end
  end
  return best
end

-- Round robin: the next free agent by id after the pool's cursor, wrapping once.
local function scan_round_robin(rec, pool, need, min_level)
  local key, cursor_key = key_pool_free(pool), key_pool_rr_cursor(pool)
  local cursor = redis.call('GET', cursor_key)
  local ranges = {{'-', '+'}}
  if cursor then ranges = {{'(' .. cursor, '+'}, {'-', '[' .. cursor}} end
  for _, r in ipairs(ranges) do
    local offset, chunk = 0, FIRST_PAGE
    while true do
      local page = redis.call('ZRANGE', key, r[1], r[2], 'BYLEX', 'LIMIT', offset, chunk)
      if #page == 0 then break end
      local levels = read_levels(page, need)
      for i, aid in ipairs(page) do
        if not rec.seen[aid] then
          local reason = page_verdict(levels, i, need, min_level)
          note(rec, aid, reason == nil, reason or 'eligible')
          if not reason then
            if not rec.dry then redis.call('SET', cursor_key, aid) end
            return aid
          end
        end
      end
      offset = offset + #page
      chunk = math.min(2 * chunk, MAX_PAGE)
    end
  end
  return nil
end

-- The whole choice for one conversation: sticky, then the pool's policy. Returns the agent (or
-- nil) and the record of who was looked at and why; nothing is changed except the RR cursor.
-- `opts` (optional): `exclude` names an agent the choice must pass over, listed first in the
-- record with `exclude_reason`; `sticky = false` skips the customer's last agent. A first
-- response missed (sla_fire.lua) uses both: its sticky agent is the one who missed it.
local function choose(cid, pool, skills_json, min_level, now, trigger, opts)
  local rec = new_record(pool, trigger, now)
  local need = decode_need(skills_json)
  min_level = min_level or 1
  if opts and opts.exclude then  -- seen: every scan passes over it, and record_json does not list it again
    local info = inspect(opts.exclude, {}, 1)
    rec.seen[opts.exclude] = true
    rec.candidates[1] = {agent = opts.exclude, eligible = false, reason = opts.exclude_reason or 'excluded',
      load = info.load, cap = info.cap}
  end
  local aid = nil
  if not (opts and opts.sticky == false) then aid = try_sticky(rec, cid, pool, need, min_level, now) end
  if aid then
    mark_chosen(rec, aid, 'sticky')
    return aid, rec
  end
  if rec.policy == 'round_robin' then
    aid = scan_round_robin(rec, pool, need, min_level)
  elseif rec.policy == 'least_loaded' and cfg().weighted == '1' then
    aid = scan_weighted(rec, pool, need, min_level, now)
  else
    aid = scan_ordered(rec, pool, need, min_level)
  end
  if aid then mark_chosen(rec, aid, 'chosen') end
  return aid, rec
end

-- A record for a choice that had one candidate: capacity appeared on that agent, or a person
-- named the agent in a transfer.
local function single_record(aid, pool, trigger, now)
  local rec = new_record(pool, trigger, now)
  local info = inspect(aid, {}, 1)
  note(rec, aid, true, trigger, info.load, info.cap)
  rec.chosen = aid
  if trigger ~= 'agent_free' then rec.policy = trigger end
  return rec
end

-- The record as JSON: the examined candidates in scan order, then (when the whole pool fits in
-- the limit) everyone else with the reason they were not examined. Kept in the conversation's
-- `assignment` field; the API shows it inside the decision record.
local function record_json(rec)
  fill_slots(rec)
  local pool = rec.pool
  local members_key = key_pool_agents(pool)
  local members = redis.call('SCARD', members_key)
  local free = redis.call('ZCARD', key_pool_free(pool))
  if members <= rec.limit - #rec.candidates then
    local rest = redis.call('SMEMBERS', members_key)
    table.sort(rest)
    for _, aid in ipairs(rest) do
      if not rec.seen[aid] then
        local info = inspect(aid, {}, 1)
        local reason = unavailable_reason(info) or 'not_examined'
        rec.candidates[#rec.candidates + 1] = {agent = aid, eligible = false, reason = reason,
          load = info.load, cap = info.cap}
      end
    end
  end
  local parts = {}
  for i, c in ipairs(rec.candidates) do parts[i] = cjson.encode(c) end
  local meta = cjson.encode({chosen = rec.chosen or cjson.null, policy = rec.policy,
    assignment = {pool = pool, trigger = rec.trigger, at = rec.at, examined = rec.examined,
      free = free, members = members, sticky = rec.sticky}})
  return '{"candidates":[' .. table.concat(parts, ',') .. '],' .. string.sub(meta, 2)
end

local function write_record(cid, rec)
  redis.call('HSET', key_conv(cid), 'assignment', record_json(rec))
end
