-- Give back a reply taken by quota_take.lua whose send failed, if the window is still open.
-- KEYS[1] the quota hash. Returns the replies used after the refund (0 when nothing to refund).
if redis.call('EXISTS', KEYS[1]) == 1 and tonumber(redis.call('HGET', KEYS[1], 'used')) > 0 then
  return redis.call('HINCRBY', KEYS[1], 'used', -1)
end
return 0
