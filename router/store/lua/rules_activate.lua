-- Activate a new routing-rule version if the active one is still the one the caller saw.
-- Compare, number, store and point in one step, so two admins (or processes) never both win and
-- every process that reads the pointer finds the whole version behind it.
-- KEYS[1] active pointer, KEYS[2] version counter, KEYS[3] version log (all {rules}).
-- ARGV: expected ('' = none yet), source, author, at, diff, summary, hash.
-- Returns {'ok', new_version} or {'stale', current_version}.
local cur = redis.call('GET', KEYS[1]) or ''
if cur ~= ARGV[1] then return {'stale', cur} end
local n = redis.call('INCR', KEYS[2])
local vid = 'v' .. n
redis.call('HSET', key_rules_version(vid), 'version', vid, 'source', ARGV[2], 'author', ARGV[3],
  'at', ARGV[4], 'diff', ARGV[5], 'summary', ARGV[6], 'hash', ARGV[7], 'previous', cur)
redis.call('ZADD', KEYS[3], n, vid)
redis.call('SET', KEYS[1], vid)
redis.call(PUBLISH, KEY_RULES_CHANNEL, vid)
return {'ok', vid}
