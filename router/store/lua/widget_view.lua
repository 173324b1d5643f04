-- What a (re)connecting web chat page is shown of its visitor's conversation, read in one step:
-- the visitor's customer, their open conversation (else their last one), its state, its agent's
-- name and picture, the agent's read mark and, while it waits, its place in line. Read one by one
-- these were seven round trips in turn per connect, and a reconnect storm at the peak (a deploy,
-- a network blip) runs thousands of them at once on the process holding the sockets.
-- Reads only. KEYS[1] anchor. ARGV[1] the visitor's identity ('webchat:web:VISITOR').
-- Returns {} for a visitor who never wrote, {customer} without a conversation, else {customer,
-- cid, state, agent id, agent name, agent picture, read mark, queue frame}, '' for what is not set.
local cust = redis.call('GET', key_identity_of(ARGV[1]))
if not cust then return {} end
local f = redis.call('HMGET', key_customer(cust), 'open', 'last_conv')
local cid = f[1] or f[2]
if not cid then return {cust} end
local ck = key_conv(cid)
if redis.call('EXISTS', ck) == 0 then return {cust} end
local c = redis.call('HMGET', ck, 'state', 'agent', 'read', 'pool')
local state, aid = c[1] or 'new', c[2] or ''
local name, avatar = '', ''
if aid ~= '' then
  local face = redis.call('HMGET', key_agent(aid), 'name', 'avatar')
  name, avatar = face[1] or aid, face[2] or ''
end
local queue = ''
if state == 'queued' and c[4] then queue = queue_frame(cid, c[4]) or '' end
return {cust, cid, state, aid, name, avatar, c[3] or '', queue}
