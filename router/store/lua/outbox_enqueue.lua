-- Put a reply in the outbox once per (author, client_msg_id), numbered within its conversation so
-- senders keep the order. KEYS[1] seen key, KEYS[2] outbound stream, KEYS[3] conversation seq.
-- ARGV: mid, payload_json, ttl_s. Returns {1, mid, seq} when new, {0, first_mid, 0} for a repeat.
local first = redis.call('GET', KEYS[1])
if first then return {0, first, 0} end
local seq = redis.call('INCR', KEYS[3])
redis.call('XADD', KEYS[2], '*', 'm', ARGV[2], 'seq', seq)
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
return {1, ARGV[1], seq}
