-- Close a bot conversation that went quiet without needing a person: resolved by the bot.
-- KEYS[1] anchor. ARGV: cid, now, idle_before. Returns {'ok'|'skip', state}.
local cid, now, before = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local ck = key_conv(cid)
local idle = KEY_BOT_IDLE
local st = redis.call('HGET', ck, 'state')
if st ~= 'bot' then
  redis.call('ZREM', idle, cid)
  return {'skip', st or ''}
end
local last = tonumber(redis.call('ZSCORE', idle, cid) or '0')
local pending = redis.call('LLEN', key_bot_pending(cid))
if last > before or pending > 0 then return {'skip', st} end
move(cid, 'closed')
redis.call('HSET', ck, 'closed_at', now, 'resolution', 'bot', 'updated', now)
redis.call('ZADD', KEY_CONV_INDEX, now, cid)
redis.call('ZREM', idle, cid)
redis.call('HINCRBY', KEY_BOT_STATS, 'resolved', 1)
archive_closed(cid, now)
local kc = key_customer(redis.call('HGET', ck, 'customer') or '')
if redis.call('HGET', kc, 'open') == cid then redis.call('HDEL', kc, 'open') end
redis.call('HSET', kc, 'last_conv', cid)
emit_customer(cid, '{"type":"closed","conversation_id":"' .. cid .. '"}')
queue_moved(cid, now)
return {'ok', 'closed'}
