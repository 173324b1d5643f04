-- Use one TOTP time step of an agent's account, once: a code already used (or an earlier one)
-- is refused, so a code seen over a shoulder cannot be replayed within its 30 seconds.
-- KEYS[1] the account hash. ARGV: step. Returns 1 when the step was free, else 0.
local last = tonumber(redis.call('HGET', KEYS[1], 'totp_last') or '-1')
if tonumber(ARGV[1]) <= last then return 0 end
redis.call('HSET', KEYS[1], 'totp_last', ARGV[1])
return 1
