-- Record a conversation's satisfaction rating once, with its indexes, or not at all.
-- KEYS[1] ratings hash, KEYS[2] by-time index, KEYS[3] (optional) the agent's index; all {csat}.
-- ARGV: cid, rating_json, at. Returns 1 when recorded, 0 when the conversation was already rated.
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
if KEYS[3] then redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1]) end
return 1
