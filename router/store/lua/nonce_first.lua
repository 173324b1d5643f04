-- Remember the digest of the first body a signed webhook's (timestamp, nonce) came with
-- (adapters/replay.py). One call whether or not it is the first, so it can share a pipeline with
-- the calls made at the same moment. KEYS[1] the nonce's key. ARGV: digest, ttl_s.
-- Returns {1} for the first, else {0, the digest remembered (false if it just lapsed)}.
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then return {1} end
return {0, redis.call('GET', KEYS[1])}
