-- Retention: drop an archived conversation's routing keys once it has been closed long enough.
-- The checks and the deletes are one step, so a conversation reopened in between keeps
-- everything. The customer, their channel identities and their last agent (stickiness) stay.
-- Keys in other slots (transcript, feed) are named in keys.archive_purging for the caller to
-- delete next; a crash in between leaves them there to resume.
-- KEYS[1] anchor. ARGV: cid, closed_before. Returns {'ok'|'young'|'skip'|'gone', state}.
local cid, before = ARGV[1], tonumber(ARGV[2])
local ck = conv_key(cid)
local done = RT .. 'archive:done'
local f = redis.call('HMGET', ck, 'state', 'closed_at', 'archive_v', 'archived_v', 'channel', 'chat',
  'customer', 'account')
if not f[1] then
  redis.call('ZREM', done, cid)
  return {'gone', ''}
end
-- Reopened, or closed again since the archive wrote it: the next archive write re-adds it.
if f[1] ~= 'closed' or f[3] ~= f[4] then
  redis.call('ZREM', done, cid)
  return {'skip', f[1]}
end
if tonumber(f[2] or '0') > before then return {'young', f[1]} end
local bk = RT .. 'bot:' .. cid
redis.call('DEL', ck, ck .. ':trail', bk, bk .. ':pending', bk .. ':lease', RT .. 'qtext:' .. cid)
redis.call('ZREM', RT .. 'convs', cid)
redis.call('ZREM', RT .. 'bot:idle', cid)
redis.call('ZREM', RT .. 'bot:due', cid)
if f[7] then redis.call('ZREM', cust_key(f[7]) .. ':convs', cid) end
redis.call('HSET', RT .. 'archive:purging', cid,
  cjson.encode({channel = f[5] or '', account = f[8] or '', chat = f[6] or '', closed_at = tonumber(f[2] or '0')}))
redis.call('ZREM', done, cid)
return {'ok', 'closed'}
