-- Change an agent's cap live; a raised cap takes waiting work at once.
-- KEYS[1] anchor. ARGV: aid, cap, now. Returns {status, load}.
local aid, cap, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local ak = agent_key(aid)
if redis.call('EXISTS', ak) == 0 then return {'err', 'unknown_agent'} end
redis.call('HSET', ak, 'cap', cap)
refresh_agent(aid)
drain_agent(aid, now)
return {'ok', redis.call('SCARD', agent_convs_key(aid))}
