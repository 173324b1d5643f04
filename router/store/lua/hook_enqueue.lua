-- One event's delivery to one webhook, once: its record (the signed body is made when it is sent),
-- its place in the webhook's log, its number within the conversation, and the stream entry the
-- senders read. An event turned into deliveries again (the fan-out restarted before it moved its
-- cursor) finds the record and changes nothing.
-- KEYS: record, log, seq, deliveries stream. ARGV: hook, delivery id (the event id), type, cid,
-- body, now, record_ttl_s, log_keep.
-- Returns 1 when queued, 0 when it was queued before.
local rec, log, seq, stream = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local hook, did, etype, cid, body = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local now, ttl, keep = ARGV[6], tonumber(ARGV[7]), tonumber(ARGV[8])
if redis.call('EXISTS', rec) == 1 then return 0 end
local n = 0
if cid ~= '' then
  n = redis.call('INCR', seq)
  redis.call('EXPIRE', seq, ttl)
end
redis.call('HSET', rec, 'id', did, 'hook', hook, 'type', etype, 'cid', cid, 'seq', n, 'body', body,
  'status', 'pending', 'attempts', 0, 'created', now, 'updated', now)
redis.call('EXPIRE', rec, ttl)
redis.call('ZADD', log, now, did)
local size = redis.call('ZCARD', log)
if size > keep then redis.call('ZREMRANGEBYRANK', log, 0, size - keep - 1) end
redis.call('XADD', stream, '*', 'hook', hook, 'd', did, 'cid', cid, 'seq', n)
return 1
