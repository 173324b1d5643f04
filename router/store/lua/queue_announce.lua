-- Tell waiting customers their new place in line after the queue moved: a `queue` frame to each
-- of the first `limit` conversations of a pool ('pool' mode), or to one conversation ('conv'
-- mode, when its throttled text is due). Web chat shows the frames; router/ops/queue_texts.py turns
-- them into WeChat/Telegram texts. Fired by a durable timer, so once per burst of changes.
-- KEYS[1] anchor. ARGV: mode, pool or cid, limit. Returns the number of frames sent.
local mode, id, limit = ARGV[1], ARGV[2], tonumber(ARGV[3])
if mode == 'conv' then
  local ck = key_conv(id)
  local f = redis.call('HMGET', ck, 'state', 'pool')
  local frame = nil
  if f[1] == 'queued' and f[2] then frame = queue_frame(id, f[2]) end
  if frame then emit_customer(id, frame) return 1 end
  return 0
end
local pool = id
local ids = redis.call('ZRANGE', key_pool_queue(pool), 0, limit - 1)
if #ids == 0 then return 0 end
-- Same estimate as lib.lua's queue_frame, with the pool's capacity counted once.
local avg, slots = pool_capacity(pool)
local sent = 0
for rank, cid in ipairs(ids) do
  -- A conversation offered here by the fallback ladder hears its place in its own pool only.
  if redis.call('HGET', key_conv(cid), 'pool') == pool then
    local eta = -1
    if slots > 0 then eta = math.ceil(rank * avg / slots) end
    emit_customer(cid, '{"type":"queue","conversation_id":"' .. cid .. '","position":' .. rank ..
      ',"ahead":' .. (rank - 1) .. ',"eta_s":' .. eta .. '}')
    sent = sent + 1
  end
end
return sent
