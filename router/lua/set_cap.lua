-- Change an agent's cap live; a raised cap takes waiting work at once. The agent is told their new
-- cap before any conversation the raise brings them.
-- KEYS[1] anchor. ARGV: aid, cap, now. Returns {status, load}.
local aid, cap, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local ak = agent_key(aid)
if redis.call('EXISTS', ak) == 0 then return {'err', 'unknown_agent'} end
local old = tonumber(redis.call('HGET', ak, 'cap') or '0')
redis.call('HSET', ak, 'cap', cap)
local load = refresh_agent(aid)
emit(aid, cjson.encode({type = 'cap', cap = tonumber(cap), previous = old, load = load}))
drain_agent(aid, now)
return {'ok', redis.call('SCARD', agent_convs_key(aid))}
