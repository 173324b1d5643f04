-- A (re)connecting web chat page's history in one step: the feed entry of the message it says it
-- saw last (the feed's start when it names none, or one the feed no longer holds) and every
-- frame after it. Two reads of one slot, so one round trip instead of two in turn per connect.
-- KEYS[1] the visitor's feed stream, KEYS[2] its message id -> entry id hash.
-- ARGV: last_seen message id ('' for none), count.
-- Returns {after, entry id, frame, entry id, frame, ...}, oldest first.
local after = '0-0'
if ARGV[1] ~= '' then after = redis.call('HGET', KEYS[2], ARGV[1]) or '0-0' end
local out = {after}
for _, e in ipairs(redis.call('XRANGE', KEYS[1], '(' .. after, '+', 'COUNT', ARGV[2])) do
  local fields = e[2]
  for i = 1, #fields, 2 do
    if fields[i] == 'm' then
      out[#out + 1] = e[1]
      out[#out + 1] = fields[i + 1]
    end
  end
end
return out
