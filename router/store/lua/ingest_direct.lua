-- Take in a customer's text line and, when it needs no decision, route it in the same step.
-- A follow-up to a conversation someone already holds (assigned, waiting in a queue, or the
-- bot's) goes to its holder here: through the inbound stream it would cost a wake-up of the route
-- worker and four more round trips (read, resolve, route, ack) before the agent sees it.
-- Anything else goes into the inbound stream exactly as ingest.lua puts it there: a new or closed
-- conversation to decide, or a sender whose earlier line is still in the stream (order: line n
-- goes here only when line n-1 is routed). One server only: the line's keys and the
-- conversation's are in different slots (Ingestor decides).
-- KEYS[1] anchor ({rt}), KEYS[2] seen key, KEYS[3] inbound stream, KEYS[4] the sender's line
-- counter, KEYS[5] the sender's last routed line.
-- ARGV: mid, stream payload, ttl_s, ident, now, message_json (as agents see it), the transcript
-- line in three parts (it is part1 .. cid .. part2 .. customer .. part3: only the script knows
-- them), burst window_s, applied ttl_s, transcript maxlen (0: no cap), name; then for a line that
-- opens a conversation (resolve_line): new customer id, new conversation id, reopen window_s,
-- channel, account, chat, avatar.
-- Returns {1, mid, state, pool, cid, customer} routed here; {1, mid, ''} put in the stream (with
-- field `r`, resolve_line's answer as JSON, when resolved here); {0, first_mid} for a duplicate.
local mid, ttl = ARGV[1], ARGV[3]
local first = redis.call('GET', KEYS[2])
if first then return {0, first} end
local n = redis.call('INCR', KEYS[4])
redis.call('EXPIRE', KEYS[4], ttl)

-- `resolve`: a line that opens a conversation (a new customer's, or the first after a close)
-- with nothing of its sender's before it in the stream. Its resolve is done here and rides with
-- it (field `r`), so the route worker only decides and routes it (one round trip and one turn of
-- its loop fewer). With a line pending before it, the worker resolves it after that one, as it
-- sees the counts then.
local function to_stream(resolve)
  if resolve then
    local r = resolve_line(mid, ARGV[4], ARGV[14], ARGV[15], tonumber(ARGV[5]), tonumber(ARGV[16]), ARGV[17],
      ARGV[18], ARGV[19], ARGV[13], ARGV[20])
    redis.call('XADD', KEYS[3], '*', 'm', ARGV[2], 'n', n, 'r', cjson.encode(r))
  else
    redis.call('XADD', KEYS[3], '*', 'm', ARGV[2], 'n', n)
  end
  redis.call('SET', KEYS[2], mid, 'EX', ttl)
  return {1, mid, ''}
end

if tonumber(redis.call('GET', KEYS[5]) or '0') ~= n - 1 then return to_stream() end
local ident = ARGV[4]
local cust = redis.call('GET', key_identity_of(ident))
if not cust then return to_stream(true) end
local kc = key_customer(cust)
local cid = redis.call('HGET', kc, 'open')
if not cid then return to_stream(true) end
local ck = key_conv(cid)
local st = redis.call('HGET', ck, 'state')
if st ~= 'assigned' and st ~= 'queued' and st ~= 'bot' then return to_stream() end

-- What resolve.lua does for an open conversation.
local now = tonumber(ARGV[5])
local name = ARGV[13]
redis.call('SADD', key_customer_identities(cust), ident)
if name ~= '' and redis.call('HGET', kc, 'name_locked') ~= '1' then redis.call('HSET', kc, 'name', name) end
redis.call('HSET', ck, 'updated', now)

-- The transcript line (append_once.lua), announced to its watchers.
append_line(cid, mid, ARGV[7] .. cid .. ARGV[8] .. cust .. ARGV[9], tonumber(ARGV[12]))

-- What route.lua does for it.
local msg = ARGV[6]
local prev_in = count_line(cid, msg, now)
if st == 'bot' then
  line_to_bot(cid, msg, now, tonumber(ARGV[10]))
else
  line_to_holder(cid, st, msg, now, prev_in, tonumber(ARGV[10]))
end
redis.call('SET', key_applied(mid), '1', 'EX', ARGV[11])
redis.call('SET', KEYS[5], n, 'EX', ARGV[11])
redis.call('SET', KEYS[2], mid, 'EX', ttl)
return {1, mid, st, redis.call('HGET', ck, 'pool') or '', cid, cust}
