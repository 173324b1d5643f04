-- Retention: drop an archived conversation's routing keys once it has been closed long enough.
-- The checks and the deletes are one step, so a conversation reopened in between keeps
-- everything. The customer, their channel identities and their last agent (stickiness) stay.
-- Keys in other slots (transcript, feed) are named in keys.archive_purging for the caller to
-- delete next; a crash in between leaves them there to resume.
-- KEYS[1] anchor. ARGV: cid, closed_before. Returns {'ok'|'young'|'skip'|'gone', state}.
local cid, before = ARGV[1], tonumber(ARGV[2])
local ck = key_conv(cid)
local done = KEY_ARCHIVE_DONE
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
local bk = key_bot(cid)
redis.call('DEL', ck, key_conv_trail(cid), key_conv_readers(cid), bk, key_bot_pending(cid), key_bot_lease(cid), key_queue_text(cid))
redis.call('ZREM', KEY_CONV_INDEX, cid)
redis.call('ZREM', KEY_BOT_IDLE, cid)
redis.call('ZREM', KEY_BOT_DUE, cid)
if f[7] then redis.call('ZREM', key_customer_convs(f[7]), cid) end
redis.call('HSET', KEY_ARCHIVE_PURGING, cid,
  cjson.encode({channel = f[5] or '', account = f[8] or '', chat = f[6] or '', closed_at = tonumber(f[2] or '0')}))
redis.call('ZREM', done, cid)
return {'ok', 'closed'}
