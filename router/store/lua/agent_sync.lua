-- Create or update an agent from the config, keeping live status and load. Pool membership and
-- free sets follow the new pools at once. The config's cap is kept as cap_config; the cap in force
-- is a supervisor's live override while there is one (set_cap.lua), so a restart keeps it.
-- KEYS[1] anchor.
-- ARGV: aid, name, role, cap, pools_json, skills_json, now.
local aid, name, role, cap, pools_json, skills_json, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], tonumber(ARGV[7])
local ak = key_agent(aid)
local old = cjson.decode(redis.call('HGET', ak, 'pools') or '[]')
local new = cjson.decode(pools_json)
local keep = {}
for _, p in ipairs(new) do keep[p] = true end
for _, p in ipairs(old) do
  if not keep[p] then
    redis.call('SREM', key_pool_agents(p), aid)
    redis.call('ZREM', key_pool_free(p), aid)
  end
end
for _, p in ipairs(new) do
  redis.call('SADD', key_pool_agents(p), aid)
  redis.call('SADD', KEY_POOLS, p)
end
redis.call('SADD', KEY_AGENTS, aid)
-- Skill levels also as sk:<skill> fields, so checking one agent reads them without JSON, and in
-- one hash per skill, so a scan reads a whole page of agents' levels in one call (policy.lua).
for skill, _ in pairs(cjson.decode(redis.call('HGET', ak, 'skills') or '{}')) do
  redis.call('HDEL', ak, 'sk:' .. skill)
  redis.call('HDEL', key_skill_levels(skill), aid)
end
for skill, level in pairs(cjson.decode(skills_json)) do
  redis.call('HSET', ak, 'sk:' .. skill, level)
  redis.call('HSET', key_skill_levels(skill), aid, level)
end
local live = redis.call('HGET', KEY_CAP_OVERRIDES, aid)
redis.call('HSET', ak, 'id', aid, 'name', name, 'role', role, 'cap', live or cap, 'cap_config', cap,
  'pools', pools_json, 'skills', skills_json)
if not redis.call('HGET', ak, 'status') then redis.call('HSET', ak, 'status', 'offline') end
if not redis.call('HGET', ak, 'last_assigned_ms') then redis.call('HSET', ak, 'last_assigned_ms', 0) end
refresh_agent(aid)
return drain_agent(aid, now)
