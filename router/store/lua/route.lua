-- Apply one routed message: count it, decide a new conversation (queue, then assign if an agent is
-- free), or hand it to the assigned agent. Idempotent per message id.
-- KEYS[1] anchor ({rt}). ARGV: mid, cid, now, message_json, pool, priority, skills_json,
-- min_level, bot_first, decision_json, applied_ttl, bot_window_s, plain (the message has no file
-- still to fetch, so the transcript shows it as the frame does), line, transcript maxlen.
-- `line`, on one server only (its keys are in other slots), is the transcript entry to append
-- first, once by message id, as append_once.lua does: the route worker's append and route in one
-- script instead of two. Returns {status, state, agent, queue_frame}, and with a line
-- {..., appended ('1' the first time), transcript entry id}.
local mid, cid, now, msg = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local line, added, entry = ARGV[14] or '', '0', ''
if line ~= '' then
  entry = redis.call('HGET', key_transcript_ids(cid), mid)
  if not entry then
    entry = append_line(cid, mid, line, tonumber(ARGV[15] or '0'))
    added = '1'
  end
end
local applied = key_applied(mid)
if redis.call('EXISTS', applied) == 1 then return {'dup', '', '', '', added, entry} end
local ck = key_conv(cid)
local st = redis.call('HGET', ck, 'state')
if not st then return redis.error_reply('NO_CONVERSATION ' .. cid) end
-- The decision record comes only with lines whose resolve found the conversation new (the rest
-- would only be dropped here). One that was reopened since its resolve is tried again, before any
-- write: the next resolve sees it new and the record comes along.
if st == 'new' and ARGV[10] == '' then return redis.error_reply('REOPENED_SINCE_RESOLVE ' .. cid) end
local prev_in, count = count_line(cid, msg, now)

local qframe = ''
if st == 'new' then
  qframe = open_conv(cid, msg, now, count, ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10],
    ARGV[13] == '1')
else
  qframe = line_to_holder(cid, st, msg, now, prev_in, tonumber(ARGV[12] or '0'))
end
local s = redis.call('HMGET', ck, 'state', 'agent')
if s[1] == 'bot' then line_to_bot(cid, msg, now, tonumber(ARGV[12] or '0')) end
redis.call('SET', applied, '1', 'EX', ARGV[11])
return {'ok', s[1], s[2] or '', qframe, added, entry}
