-- Compare-and-set one string key: change it only from the value the caller read, so two
-- processes that read the same value cannot both move it (a WeCom sync cursor, a pending pull).
-- KEYS[1] the key. ARGV: expected ('' = the key is absent), new value ('' = delete it).
-- Returns 1 when the key held `expected` and now holds the new value, else 0.
local current = redis.call('GET', KEYS[1])
if (current or '') ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2]) end
return 1
