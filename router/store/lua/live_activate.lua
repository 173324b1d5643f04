-- Activate a new version of one live configuration document (pools, hours, shifts, quick
-- replies, FAQ) if the active one is still the one the caller saw: compare, number, store and
-- point in one step, as rules_activate.lua does for the rules.
-- KEYS[1] active pointer, KEYS[2] version counter, KEYS[3] version log (all {cfg}, one kind).
-- ARGV: kind, expected ('' = none yet), source, author, at, diff, summary.
-- Returns {'ok', new_version} or {'stale', current_version}.
local cur = redis.call('GET', KEYS[1]) or ''
if cur ~= ARGV[2] then return {'stale', cur} end
local n = redis.call('INCR', KEYS[2])
local vid = 'v' .. n
redis.call('HSET', key_live_version(ARGV[1], vid), 'version', vid, 'source', ARGV[3], 'author', ARGV[4],
  'at', ARGV[5], 'diff', ARGV[6], 'summary', ARGV[7], 'previous', cur)
redis.call('ZADD', KEYS[3], n, vid)
redis.call('SET', KEYS[1], vid)
redis.call(PUBLISH, KEY_LIVE_CHANNEL, ARGV[1] .. ' ' .. vid)
return {'ok', vid}
