-- The archive holds version v of a conversation: note it, and let retention find it by close time.
-- Versions only rise, so a slower writer of an older version cannot undo a newer one's mark.
-- KEYS[1] anchor. ARGV: cid, v. Returns 1 when marked.
local cid, v = ARGV[1], tonumber(ARGV[2])
local ck = key_conv(cid)
local f = redis.call('HMGET', ck, 'state', 'archived_v', 'closed_at', 'archive_v')
if not f[1] or tonumber(f[2] or '0') >= v then return 0 end
redis.call('HSET', ck, 'archived_v', v)
-- Closed by a version before the archive: this is its first close as far as retention counts.
if not f[4] then redis.call('HSET', ck, 'archive_v', v) end
if f[1] == 'closed' then redis.call('ZADD', KEY_ARCHIVE_DONE, tonumber(f[3] or '0'), cid) end
return 1
