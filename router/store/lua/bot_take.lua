-- Take a bot conversation's due turn: the customer lines gathered while the debounce window was
-- open. A lease (not a delete) guards the turn, so a process dying mid-turn loses nothing: the
-- lease lapses and another process takes the same lines again.
-- KEYS[1] anchor. ARGV: cid, now, lease_s, token.
-- Returns {'ok', bot_state_json, human_replied, channel, account, chat, customer, pool,
-- linked_order, line...} or {'wait'|'busy'|'empty'|'gone', state}.
local cid, now = ARGV[1], tonumber(ARGV[2])
local due = KEY_BOT_DUE
local score = redis.call('ZSCORE', due, cid)
if not score or tonumber(score) > now then return {'wait', ''} end
local bk = key_bot(cid)
local lease = key_bot_lease(cid)
if redis.call('EXISTS', lease) == 1 then return {'busy', ''} end
local pk = key_bot_pending(cid)
local f = redis.call('HMGET', key_conv(cid), 'state', 'human_replied', 'channel', 'account', 'chat',
  'customer', 'pool', 'linked_order')
if f[1] ~= 'bot' then
  -- Handed off or closed: the lines are in the transcript, and the agent got them with it.
  redis.call('DEL', pk)
  redis.call('ZREM', due, cid)
  return {'gone', f[1] or ''}
end
local lines = redis.call('LRANGE', pk, 0, 99)
if #lines == 0 then
  redis.call('ZREM', due, cid)
  return {'empty', f[1]}
end
redis.call('SET', lease, ARGV[4], 'PX', math.floor(tonumber(ARGV[3]) * 1000))
local out = {'ok', redis.call('HGET', bk, 'state') or '', f[2] or '', f[3] or '', f[4] or '',
  f[5] or '', f[6] or '', f[7] or '', f[8] or ''}
for _, line in ipairs(lines) do out[#out + 1] = line end
return out
