-- A web chat customer is typing: tell the agent holding their open conversation, in one step
-- (router/pipeline/typing_relay.py). Read one by one it was four round trips in turn a frame, and
-- at the peak thousands of pages each send one every few seconds while their customer types.
-- Nothing is stored: the frame goes out on the agent channel only, so no reconnect replays it.
-- KEYS[1] anchor. ARGV[1] the visitor's identity ('webchat:web:VISITOR').
-- Returns 1 when an agent was told, 0 when no agent holds an open conversation of theirs.
local cust = redis.call('GET', key_identity_of(ARGV[1]))
if not cust then return 0 end
local cid = redis.call('HGET', key_customer(cust), 'open')
if not cid then return 0 end
local c = redis.call('HMGET', key_conv(cid), 'state', 'agent')
if c[1] ~= 'assigned' or not c[2] or c[2] == '' then return 0 end
redis.call(PUBLISH, KEY_AGENT_CHANNEL, c[2] .. '\n-\n{"type":"typing","conversation_id":"' .. cid .. '"}')
return 1
