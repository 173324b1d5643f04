-- Change an agent's cap live; a raised cap takes waiting work at once. The agent is told their new
-- cap before any conversation the raise brings them. The cap is kept as an override that outlives
-- restarts (agent_sync.lua) until cleared; clearing puts the config's cap back in force.
-- KEYS[1] anchor. ARGV: aid, cap ('' clears the override), now. Returns {status, load}.
local aid, cap, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local ak = key_agent(aid)
if redis.call('EXISTS', ak) == 0 then return {'err', 'unknown_agent'} end
local f = redis.call('HMGET', ak, 'cap', 'cap_config')
local old = tonumber(f[1] or '0')
local configured = f[2] or f[1] or '0'
local override = cjson.null
if cap == '' then
  redis.call('HDEL', KEY_CAP_OVERRIDES, aid)
  cap = configured
else
  redis.call('HSET', KEY_CAP_OVERRIDES, aid, cap)
  override = tonumber(cap)
end
redis.call('HSET', ak, 'cap', cap)
local load = refresh_agent(aid)
emit(aid, cjson.encode({type = 'cap', cap = tonumber(cap), previous = old, load = load,
  configured = tonumber(configured), override = override}))
drain_agent(aid, now)
return {'ok', redis.call('SCARD', key_agent_convs(aid))}
