-- Finish a turn taken by bot_take: drop the lines it answered, keep the bot's memory and the turn's
-- record, and free the lease. Lines that arrived meanwhile stay, with their own due time, for the next turn.
-- KEYS[1] anchor. ARGV: cid, token, taken, state_json, now, turn_json. Returns {'ok'|'lost'}.
local cid, token, taken, now = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[5])
local bk = key_bot(cid)
local lease = key_bot_lease(cid)
if redis.call('GET', lease) ~= token then return {'lost'} end
local pk = key_bot_pending(cid)
redis.call('LTRIM', pk, taken, -1)
redis.call('HSET', bk, 'state', ARGV[4], 'last_turn', now)
redis.call('DEL', lease)
if ARGV[6] and ARGV[6] ~= '' then
  redis.call('HSET', key_conv(cid), 'bot_turn', ARGV[6])
  -- Every turn's record, in order in the trail, so the archive keeps why the bot answered or
  -- handed on at each turn (the hash keeps only the last). Spliced as text: the record stays
  -- byte for byte what the bot wrote (cjson would turn an empty list into an object).
  trail_text(cid,
    '{"kind":"bot_turn","at":' .. string.format('%.3f', now) .. ',"turn":' .. ARGV[6] .. '}')
end
if redis.call('LLEN', pk) == 0 then redis.call('ZREM', KEY_BOT_DUE, cid) end
if redis.call('HGET', key_conv(cid), 'state') == 'bot' then
  redis.call('ZADD', KEY_BOT_IDLE, now, cid)
else
  redis.call('ZREM', KEY_BOT_IDLE, cid)
end
return {'ok'}
