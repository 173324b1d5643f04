-- Find or create the customer and their open conversation for one inbound message, and return
-- what the rules need to decide it. Reopens a conversation closed within the reopen window.
-- KEYS[1] anchor ({rt}). ARGV: mid, ident, new_cust, new_cid, now, window, channel, account,
-- chat, name, avatar. Returns {status, cust, cid, state, messages, reopened, prev_pool, segment, tags,
-- product (JSON or '')}.
local mid, ident, new_cust, new_cid = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local now, window = tonumber(ARGV[5]), tonumber(ARGV[6])
local channel, account, chat, name, avatar = ARGV[7], ARGV[8], ARGV[9], ARGV[10], ARGV[11] or ''


-- A re-read entry that was already routed must not reopen or create anything.
if redis.call('EXISTS', key_applied(mid)) == 1 then return {'dup'} end

local ik = key_identity_of(ident)
local cust = redis.call('GET', ik)
if not cust then
  cust = new_cust
  redis.call('SET', ik, cust)
  redis.call('HSET', key_customer(cust), 'id', cust, 'created', now, 'segment', 'new')
end
local kc = key_customer(cust)
redis.call('SADD', key_customer_identities(cust), ident)
-- The channel's profile name (or the name typed in a form), unless a person or the shop set one.
if name ~= '' and redis.call('HGET', kc, 'name_locked') ~= '1' then redis.call('HSET', kc, 'name', name) end
if avatar ~= '' then redis.call('HSET', kc, 'avatar', avatar) end

local cid = redis.call('HGET', kc, 'open')
if cid then
  local st = redis.call('HGET', key_conv(cid), 'state')
  if not st or st == 'closed' then cid = nil end
end
if not cid then
  local last = redis.call('HGET', kc, 'last_conv')
  local last_state, closed_at, last_pool = nil, 0, nil
  if last then
    local f = redis.call('HMGET', key_conv(last), 'state', 'closed_at', 'pool')
    last_state, closed_at, last_pool = f[1], tonumber(f[2] or '0'), f[3]
  end
  if last and last_state == 'closed' and now - closed_at <= window then
    cid = last
    move(cid, 'new')
    redis.call('HINCRBY', key_conv(cid), 'reopened', 1)
    -- Who held it before the close: a reopen goes back to that person (if free), not to the bot.
    local held = redis.call('HGET', key_conv(cid), 'agent') or ''
    redis.call('HSET', key_conv(cid), 'prev_pool', last_pool or '', 'prev_agent', held)
    redis.call('HDEL', key_conv(cid), 'closed_at', 'agent', 'resolution', 'first_reply_at',
      'human_replied', 'queued_at', 'assigned_at')
  else
    cid = new_cid
    redis.call('HSET', key_conv(cid), 'id', cid, 'customer', cust, 'state', 'new',
      'created', now, 'messages', 0, 'reopened', 0, 'prev_pool', last_pool or '')
    hook_event(cid, 'conversation.created', cjson.encode({conversation_id = cid, customer_id = cust,
      channel = channel, account = account, chat = chat}), now)
    if redis.call('HGET', kc, 'segment') == 'new' and last then
      redis.call('HSET', kc, 'segment', 'returning')
    end
  end
  redis.call('HSET', kc, 'open', cid)
  redis.call('ZADD', key_customer_convs(cust), 'NX', now, cid)  -- keys.customer_convs: the console's history
end
local ck = key_conv(cid)
redis.call('HSET', ck, 'channel', channel, 'account', account, 'chat', chat, 'updated', now)
local f = redis.call('HMGET', ck, 'state', 'messages', 'reopened', 'prev_pool')
local c = redis.call('HMGET', kc, 'segment', 'tags', 'product')
return {'ok', cust, cid, f[1], f[2] or '0', f[3] or '0', f[4] or '', c[1] or 'new', c[2] or '[]', c[3] or ''}
