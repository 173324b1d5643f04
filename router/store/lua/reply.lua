-- Check that an agent may reply in a conversation and record that a human answered (first
-- response time; the bot goes quiet). KEYS[1] anchor. ARGV: cid, actor, now, force.
-- Returns {status, channel, account, chat, customer} or {'err', reason}.
local cid, actor, now, force = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local ck = key_conv(cid)
local f = redis.call('HMGET', ck, 'state', 'agent', 'channel', 'account', 'chat', 'customer')
if not f[1] then return {'err', 'unknown_conversation'} end
if f[1] == 'closed' then return {'err', 'closed'} end
if force ~= '1' and (f[1] ~= 'assigned' or f[2] ~= actor) then return {'err', 'not_assigned_to_you'} end
sla_replied(cid, actor, now)
if not redis.call('HGET', ck, 'first_reply_at') then redis.call('HSET', ck, 'first_reply_at', now) end
redis.call('HSET', ck, 'last_out_at', now, 'updated', now, 'human_replied', '1', 'waiting_on', 'customer')
redis.call('ZADD', KEY_CONV_INDEX, now, cid)
return {'ok', f[3], f[4], f[5], f[6]}
