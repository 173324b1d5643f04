-- Take one reply from a WeChat customer's reply quota, only while their window is open: a bare
-- HINCRBY would recreate an expired hash without its TTL.
-- KEYS[1] the quota hash (Keys.wechat_quota). ARGV: quota.
-- Returns the replies left after this one, -1 when the window has closed, -2 when none are left.
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local used = redis.call('HINCRBY', KEYS[1], 'used', 1)
if used > tonumber(ARGV[1]) then redis.call('HINCRBY', KEYS[1], 'used', -1) return -2 end
return tonumber(ARGV[1]) - used
