-- A customer's line in a conversation that needs no decision: one already someone's (assigned),
-- waiting in a queue, or the bot's. Shared by route.lua and ingest_direct.lua, so a line taken
-- either way has the same effects.

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
