-- An event that happens outside the routing scripts (a reply taken by the channel, a note, a
-- rating) onto the webhook event stream, once per event key: the step that emits it may run again
-- after a crash. Nothing happens while no webhook is enabled (keys.hook_on).
-- KEYS[1] anchor ({rt}). ARGV: event key, type, cid, data (JSON object), now, seen_ttl_s.
-- Returns 1 when written, 0 when not (no webhook, or written before).
local ekey, etype, cid, data, now, ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]), ARGV[6]
if redis.call('EXISTS', KEY_HOOK_ON) == 0 then return 0 end
if not redis.call('SET', key_hook_seen(ekey), '1', 'NX', 'EX', ttl) then return 0 end
hook_event(cid, etype, data, now)
return 1
