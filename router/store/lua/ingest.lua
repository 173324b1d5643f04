-- Accept an inbound message once: the first delivery of (channel, account, native id) is appended
-- to the inbound stream; a retry gets the first one's message id back and changes nothing.
-- KEYS[1] seen key, KEYS[2] inbound stream, KEYS[3] the sender's line counter.
-- ARGV: mid, payload, ttl_s. The entry carries its line number 'n' among the sender's lines, so
-- route workers keep their order. Returns {1, mid} when new, {0, first_mid} for a duplicate.
local first = redis.call('GET', KEYS[1])
if first then return {0, first} end
local n = redis.call('INCR', KEYS[3])
redis.call('EXPIRE', KEYS[3], ARGV[3])
redis.call('XADD', KEYS[2], '*', 'm', ARGV[2], 'n', n)
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
return {1, ARGV[1]}
