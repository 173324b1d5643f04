-- An agent saw a conversation's messages up to a message id: move its read mark forward only,
-- so two consoles (or two processes) sending marks in any order leave the newest.
-- KEYS[1] the conversation hash. ARGV[1] the message id (time-ordered, one length: compared as text).
-- Returns 1 when the mark moved, 0 when it was already there or past it, or the conversation is gone.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local current = redis.call('HGET', KEYS[1], 'read') or ''
if ARGV[1] <= current then return 0 end
redis.call('HSET', KEYS[1], 'read', ARGV[1])
return 1
