-- Append a message to a per-conversation or per-customer stream once, by message id; optionally
-- publish it. KEYS[1] stream, KEYS[2] ids hash. ARGV: mid, json, maxlen (0: no cap), channel,
-- publish_prefix, bare ('1': publish only that a line landed, not the line: a transcript's watchers
-- read it themselves). Returns {1, entry_id} when appended, {0, entry_id} when already there.
-- The channel is in another slot than the stream; on a Cluster's shard channels the caller
-- publishes after the script instead (Store.append_published), so this gets no channel there.
local existing = redis.call('HGET', KEYS[2], ARGV[1])
if existing then return {0, existing} end
local id
if tonumber(ARGV[3]) > 0 then
  id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', 'm', ARGV[2])
else
  id = redis.call('XADD', KEYS[1], '*', 'm', ARGV[2])
end
redis.call('HSET', KEYS[2], ARGV[1], id)
if ARGV[4] ~= '' then
  redis.call(PUBLISH, ARGV[4], ARGV[5] .. '\n' .. id .. '\n' .. (ARGV[6] == '1' and '' or ARGV[2]))
end
return {1, id}
