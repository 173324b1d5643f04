-- Take in the first line of a sender the router has never seen, already decided, and route it in
-- the same step. The rules decide on the customer's and the conversation's facts, and a sender
-- whose identity names no customer has none but the defaults (a new customer, a first
-- conversation, no tags, no product, no previous pool): the Ingestor decides before sending, and
-- the line skips the inbound stream, the route worker's wake-up and its route round trip.
-- That decision holds only for such a sender, so this checks it before any write: for a sender
-- who is known by now (another tab, another process), or with a line of theirs still in the
-- inbound stream (order), it changes nothing and says so, and the line goes to ingest_direct.lua.
-- One server only: the line's keys and the conversation's are in different slots.
-- KEYS[1] anchor ({rt}), KEYS[2] seen key, KEYS[3] the sender's line counter, KEYS[4] the
-- sender's last routed line.
-- ARGV: mid, ttl_s, ident, now, message_json (as agents see it, with its ids), the transcript
-- line, burst window_s, applied ttl_s, transcript maxlen (0: no cap), name, new customer id, new
-- conversation id, reopen window_s, channel, account, chat, avatar; then the decision as route.lua
-- takes it: pool, priority, skills_json, min_level, bot_first, decision_json.
-- Returns {1, mid, state, pool, cid, customer} routed here; {0, first_mid} for a duplicate; {2}
-- not taken (the sender is known, or a line of theirs waits): take it in as usual.
local mid, ttl, ident = ARGV[1], ARGV[2], ARGV[3]
local first = redis.call('GET', KEYS[2])
if first then return {0, first} end
if redis.call('EXISTS', key_identity_of(ident)) == 1 then return {2} end
local n = tonumber(redis.call('GET', KEYS[3]) or '0') + 1
if tonumber(redis.call('GET', KEYS[4]) or '0') ~= n - 1 then return {2} end
redis.call('SET', KEYS[3], n, 'EX', ttl)  -- as ingest_direct.lua's INCR and EXPIRE

local now, cust, cid, msg = tonumber(ARGV[4]), ARGV[11], ARGV[12], ARGV[5]
-- The identity is unknown, so this makes the customer and the conversation with these ids.
resolve_line(mid, ident, cust, cid, now, tonumber(ARGV[13]), ARGV[14], ARGV[15], ARGV[16], ARGV[10], ARGV[17])
append_line(cid, mid, ARGV[6], tonumber(ARGV[9]))
local _, count = count_line(cid, msg, now)
open_conv(cid, msg, now, count, ARGV[18], ARGV[19], ARGV[20], ARGV[21], ARGV[22], ARGV[23], true)
local st = redis.call('HGET', key_conv(cid), 'state')
if st == 'bot' then line_to_bot(cid, msg, now, tonumber(ARGV[7])) end
redis.call('SET', key_applied(mid), '1', 'EX', ARGV[8])
redis.call('SET', KEYS[4], n, 'EX', ARGV[8])
redis.call('SET', KEYS[2], mid, 'EX', ttl)
return {1, mid, st, ARGV[18], cid, cust}
