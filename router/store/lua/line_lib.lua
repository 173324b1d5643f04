-- A customer's line in a conversation that needs no decision: one already someone's (assigned),
-- waiting in a queue, or the bot's. Shared by route.lua and ingest_direct.lua, so a line taken
-- either way has the same effects. And the resolve of a line that needs one (resolve.lua), which
-- ingest_direct.lua runs for a line that opens a conversation; and a new conversation's decision
-- applied (route.lua; ingest_open.lua, for a sender never seen, decided before the line came).

-- Append the line to its conversation's transcript and tell its watchers (append_once.lua's work,
-- for the scripts that take a line on one server, where the transcript's slot may be reached).
-- Returns the entry id.
local function append_line(cid, mid, line, maxlen)
  local entry
  if maxlen > 0 then
    entry = redis.call('XADD', key_transcript(cid), 'MAXLEN', '~', maxlen, '*', 'm', line)
  else
    entry = redis.call('XADD', key_transcript(cid), '*', 'm', line)
  end
  redis.call('HSET', key_transcript_ids(cid), mid, entry)
  redis.call(PUBLISH, KEY_TRANSCRIPT_CHANNEL, cid .. '\n' .. entry .. '\n')
  return entry
end

-- Count the line on its conversation (hooks, message count, the clocks' last customer line, the
-- recency index). Returns when the previous customer line came (for the burst window) and the
-- conversation's message count with this line.
local function count_line(cid, msg, now)
  hook_event(cid, 'message.created', '{"conversation_id":"' .. cid .. '","direction":"in","message":' .. msg .. '}', now)
  local ck = key_conv(cid)
  local prev_in = tonumber(redis.call('HGET', ck, 'last_in_at') or '0')
  local count = redis.call('HINCRBY', ck, 'messages', 1)
  redis.call('HSET', ck, 'updated', now, 'last_in_at', now, 'waiting_on', 'agent')
  redis.call('ZADD', KEY_CONV_INDEX, now, cid)
  return prev_in, count
end

-- Hand the line to whoever holds the conversation: its agent's `message` event, or the customer's
-- queue position again. Returns the queue frame ('' when none).
local function line_to_holder(cid, st, msg, now, prev_in, window)
  local ck = key_conv(cid)
  if st == 'assigned' then
    wake_waiting(cid, now, 'customer')
    sla_customer_message(cid, now)
    local aid = redis.call('HGET', ck, 'agent')
    -- Every line of a burst is shown, but only its first asks for the agent's attention.
    local notify = 'true'
    if now - prev_in <= window then notify = 'false' end
    emit(aid, '{"type":"message","conversation_id":"' .. cid .. '","message":' .. msg ..
      ',"notify":' .. notify .. '}')
  elseif st == 'queued' then
    sla_customer_message(cid, now)
    local qframe = queue_frame(cid, redis.call('HGET', ck, 'pool')) or ''
    if qframe ~= '' then emit_customer(cid, qframe) end
    return qframe
  end
  return ''
end

-- The bot's turn waits here, durably, until the customer pauses (the debounce window slides).
-- The window slides, but a customer who keeps typing is still answered: a turn is due at most
-- BURST_MAX_WINDOWS windows after its first line. Lines arriving while a turn is being answered
-- (leased) start the next turn, with a window of their own.
local BURST_MAX_WINDOWS = 4
local function line_to_bot(cid, msg, now, window)
  local pending = key_bot_pending(cid)
  local due = now + window
  local first = redis.call('LINDEX', pending, 0)
  if first and redis.call('EXISTS', key_bot_lease(cid)) == 0 then
    local ok, line = pcall(cjson.decode, first)
    local started = ok and type(line) == 'table' and tonumber(line.ts) or nil
    if started then due = math.min(due, math.max(started + BURST_MAX_WINDOWS * window, now)) end
  end
  redis.call('RPUSH', pending, msg)
  redis.call('ZADD', KEY_BOT_DUE, due, cid)
end

-- A conversation resolve_line found new, with the rules' decision for its first line (route.lua,
-- and ingest_open.lua, which decided before taking the line in): kept on the conversation, then
-- the bot's, or queued and offered to an agent. `count` is the conversation's message count with
-- this line; `plain`: the line has no file still to fetch. Returns the queue frame ('' when none).
local function open_conv(cid, msg, now, count, pool, priority, skills, min_level, bot_first, decision, plain)
  local ck = key_conv(cid)
  redis.call('HSET', ck, 'pool', pool, 'priority', priority, 'skills', skills,
    'min_level', min_level, 'decision', decision)
  -- A line soon after a close reopens the conversation in context (resolve.lua): one a person
  -- held goes back to people (the sticky rule offers it to that agent first), not to the bot.
  local f0 = redis.call('HMGET', ck, 'reopened', 'prev_agent')
  local reopened = tonumber(f0[1] or '0') > 0
  if bot_first == '1' and not (reopened and (f0[2] or '') ~= '') then
    move(cid, 'bot')
    if reopened then
      -- The bot goes on where it left off: no second greeting, the order talked about and the
      -- orders unlocked stay; what ended its part (a handoff, an agent's reply) does not.
      local raw = redis.call('HGET', key_bot(cid), 'state')
      local ok, st = pcall(cjson.decode, raw or '')
      if ok and type(st) == 'table' then
        st.handed_off, st.human_replied, st.asked_order_id = false, false, false
        st.pending, st.unanswered = cjson.null, 0
        redis.call('HSET', key_bot(cid), 'state', cjson.encode(st))
      end
      redis.call('DEL', key_bot_pending(cid))
    else
      redis.call('DEL', key_bot(cid), key_bot_pending(cid))
    end
    redis.call('HDEL', ck, 'bot_reason', 'bot_intent', 'bot_order_id', 'bot_note', 'handed_off_at')
    redis.call('HINCRBY', KEY_BOT_STATS, 'conversations', 1)
    return ''
  end
  -- Try the new conversation first so that its trigger message rides on the assigned frame;
  -- a first line of a conversation that is not a reopened one is its whole transcript.
  -- The SLA starts first, so that the conversation the assigned frame shows has it.
  sla_start(cid, now)
  local fresh = count == 1 and not reopened and plain
  return queue_and_offer(cid, pool, skills, tonumber(min_level) or 1, now, 'arrival', msg, fresh)
end

-- Find or create the customer and their open conversation for one inbound message, and return
-- what the rules need to decide it (resolve.lua; ingest_direct.lua for a sender's line that opens
-- a conversation). Reopens a conversation closed within the reopen window. Returns {status, cust,
-- cid, state, messages, reopened, prev_pool, segment, tags, product (JSON or '')}, or {'dup'} for a
-- message already routed.
local function resolve_line(mid, ident, new_cust, new_cid, now, window, channel, account, chat, name, avatar)
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
end
