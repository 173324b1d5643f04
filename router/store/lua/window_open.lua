-- A WeChat customer wrote: a fresh 48-hour reply window with the full quota, expiring with it.
-- KEYS[1] the customer's quota key. ARGV: now, window_s.
redis.call('HSET', KEYS[1], 'used', 0, 'opened', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
