-- Release a lock only if this holder still has it (its lease may have lapsed to another).
-- KEYS[1] the lock. ARGV: the holder's token. Returns 1 when released.
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
