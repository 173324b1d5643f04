-- The bot gives a conversation to people: bot -> queued in the pool the rules chose, assigned at
-- once when an agent is free (the same enqueue/choose path as route.lua). What the bot learned is
-- kept on the conversation for the agent and counted for the deflection figures.
-- KEYS[1] anchor. ARGV: cid, now, pool, priority, skills_json, min_level, reason, intent,
-- order_id, note. Returns {'ok', state, agent, queue_frame} or {'skip', state}.
local cid, now, pool = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local ck = key_conv(cid)
local st = redis.call('HGET', ck, 'state')
if st ~= 'bot' then return {'skip', st or ''} end
if redis.call('SISMEMBER', KEY_POOLS, pool) == 0 then
  pool = redis.call('HGET', ck, 'pool') or pool
end
redis.call('HSET', ck, 'priority', ARGV[4], 'skills', ARGV[5], 'min_level', ARGV[6],
  'bot_reason', ARGV[7], 'bot_intent', ARGV[8], 'bot_order_id', ARGV[9], 'bot_note', ARGV[10],
  'handed_off_at', now, 'updated', now)
local stats = KEY_BOT_STATS
redis.call('HINCRBY', stats, 'handed_off', 1)
redis.call('HINCRBY', stats, 'reason:' .. ARGV[7], 1)
redis.call('ZREM', KEY_BOT_IDLE, cid)
local qframe = queue_and_offer(cid, pool, ARGV[5], tonumber(ARGV[6]), now, 'handoff', nil)
-- From here the conversation is people's: their service clocks start (sla_lib).
sla_start(cid, now)
local s = redis.call('HMGET', ck, 'state', 'agent')
return {'ok', s[1], s[2] or '', qframe}
