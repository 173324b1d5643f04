-- One customer across identities: link an identity to another's customer, merge two customers,
-- and undo a merge. One script, so a link that finds two customers merges them in the same step
-- and nothing reads half a merge. Every key is in {rt}: identities, customer hashes, their
-- conversation sets and the conversations' hashes.
-- KEYS[1] anchor ({rt}). ARGV[1] the operation:
--   link   ident, anchor, new_cust, now, by    -> {'ok', cust, merged_from or ''}
--   merge  from, into, now, by                 -> {'ok', into} or {'err', reason}
--   unmerge from                               -> {'ok', into} or {'err', reason}
--   claim  cust, anchor                        -> {'ok', owner}: the anchor is cust's unless
--          another customer holds it (then that one is named, for a person to merge)
local op = ARGV[1]
local RANK = {new = 1, returning = 2, vip = 3}
-- Fields a merge copies onto the customer it keeps when that one has none: what people typed or
-- the channel told us, so the kept profile shows it; an unmerge clears them again if unchanged.
local FILL = {'name', 'phone', 'avatar', 'product'}

local function create(cust, now)
  if redis.call('EXISTS', key_customer(cust)) == 0 then
    redis.call('HSET', key_customer(cust), 'id', cust, 'created', now, 'segment', 'new')
  end
end

local function merge(from, into, now, by)
  if from == into then return {'err', 'same_customer'} end
  local kf, ki = key_customer(from), key_customer(into)
  if redis.call('EXISTS', kf) == 0 then return {'err', 'unknown_customer'} end
  if redis.call('EXISTS', ki) == 0 then return {'err', 'unknown_target'} end
  if redis.call('HEXISTS', kf, 'merged_into') == 1 then return {'err', 'already_merged'} end
  if redis.call('HEXISTS', ki, 'merged_into') == 1 then return {'err', 'target_merged'} end
  local rec = {into = into, at = now, by = by, idents = {}, convs = {}, filled = {}, tags_added = {},
               open = '', segment_was = redis.call('HGET', ki, 'segment') or 'new'}
  for _, ident in ipairs(redis.call('SMEMBERS', key_customer_identities(from))) do
    if redis.call('GET', key_identity_of(ident)) == from then
      redis.call('SET', key_identity_of(ident), into)
      if redis.call('SADD', key_customer_identities(into), ident) == 1 then table.insert(rec.idents, ident) end
    end
  end
  local convs = redis.call('ZRANGE', key_customer_convs(from), 0, -1, 'WITHSCORES')
  for i = 1, #convs, 2 do
    local cid = convs[i]
    if redis.call('ZADD', key_customer_convs(into), 'NX', convs[i + 1], cid) == 1 then
      table.insert(rec.convs, cid)
    end
    if redis.call('HGET', key_conv(cid), 'customer') == from then
      redis.call('HSET', key_conv(cid), 'customer', into)
    end
  end
  local open_from = redis.call('HGET', kf, 'open')
  if open_from and not redis.call('HGET', ki, 'open') then
    redis.call('HSET', ki, 'open', open_from)
    rec.open = open_from
  end
  for _, f in ipairs(FILL) do
    local v = redis.call('HGET', kf, f)
    if v and v ~= '' and (redis.call('HGET', ki, f) or '') == '' then
      redis.call('HSET', ki, f, v)
      table.insert(rec.filled, f)
    end
  end
  rec.tags_raw = redis.call('HGET', ki, 'tags') or ''
  local tags = cjson.decode(redis.call('HGET', ki, 'tags') or '[]')
  local have = {}
  for _, t in ipairs(tags) do have[t] = true end
  for _, t in ipairs(cjson.decode(redis.call('HGET', kf, 'tags') or '[]')) do
    if not have[t] then table.insert(tags, t); table.insert(rec.tags_added, t); have[t] = true end
  end
  if #rec.tags_added > 0 then redis.call('HSET', ki, 'tags', cjson.encode(tags)) end
  local seg_from = redis.call('HGET', kf, 'segment') or 'new'
  if (RANK[seg_from] or 0) > (RANK[rec.segment_was] or 0) then redis.call('HSET', ki, 'segment', seg_from) end
  redis.call('HSET', kf, 'merged_into', into)
  redis.call('SADD', key_customer_merged(into), from)
  -- cjson writes an empty table as {}; the reader takes either for an empty list.
  redis.call('SET', key_customer_merge(from), cjson.encode(rec))
  return {'ok', into}
end

local function unmerge(from)
  local raw = redis.call('GET', key_customer_merge(from))
  if not raw then return {'err', 'not_merged'} end
  local rec = cjson.decode(raw)
  local into = rec.into
  local kf, ki = key_customer(from), key_customer(into)
  -- Merges undo in reverse order: what moved into `into` has moved on with it since.
  if redis.call('HEXISTS', ki, 'merged_into') == 1 then return {'err', 'target_merged'} end
  for _, ident in ipairs(rec.idents or {}) do
    if redis.call('GET', key_identity_of(ident)) == into then redis.call('SET', key_identity_of(ident), from) end
    redis.call('SREM', key_customer_identities(into), ident)
  end
  for _, cid in ipairs(rec.convs or {}) do
    redis.call('ZREM', key_customer_convs(into), cid)
    if redis.call('HGET', key_conv(cid), 'customer') == into then
      redis.call('HSET', key_conv(cid), 'customer', from)
    end
  end
  if rec.open ~= '' and redis.call('HGET', ki, 'open') == rec.open then redis.call('HDEL', ki, 'open') end
  for _, f in ipairs(rec.filled or {}) do
    if redis.call('HGET', ki, f) == redis.call('HGET', kf, f) then redis.call('HDEL', ki, f) end
  end
  if #(rec.tags_added or {}) > 0 then
    local drop = {}
    for _, t in ipairs(rec.tags_added) do drop[t] = true end
    local kept = {}
    for _, t in ipairs(cjson.decode(redis.call('HGET', ki, 'tags') or '[]')) do
      if not drop[t] then table.insert(kept, t) end
    end
    -- The tags as they were, byte for byte, when nobody changed them since.
    local was = rec.tags_raw or ''
    if cjson.encode(kept) == cjson.encode(cjson.decode(was ~= '' and was or '[]')) then
      if was ~= '' then redis.call('HSET', ki, 'tags', was) else redis.call('HDEL', ki, 'tags') end
    elseif #kept > 0 then
      redis.call('HSET', ki, 'tags', cjson.encode(kept))
    else
      redis.call('HDEL', ki, 'tags')
    end
  end
  if redis.call('HGET', ki, 'segment') == (redis.call('HGET', kf, 'segment') or 'new') then
    redis.call('HSET', ki, 'segment', rec.segment_was)
  end
  redis.call('HDEL', kf, 'merged_into')
  redis.call('SREM', key_customer_merged(into), from)
  redis.call('DEL', key_customer_merge(from))
  return {'ok', into}
end

if op == 'merge' then
  return merge(ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5])
elseif op == 'unmerge' then
  return unmerge(ARGV[2])
elseif op == 'claim' then
  local cust, anchor = ARGV[2], ARGV[3]
  local owner = redis.call('GET', key_identity_of(anchor))
  if owner then owner = redis.call('HGET', key_customer(owner), 'merged_into') or owner end
  if owner and owner ~= cust then return {'ok', owner} end
  redis.call('SET', key_identity_of(anchor), cust)
  redis.call('SADD', key_customer_identities(cust), anchor)
  return {'ok', cust}
end

-- link: `anchor` (a shop user id, a phone digest, a WeChat unionid, a verified order) names one
-- person; the identity that showed it is theirs from now on.
local ident, anchor, new_cust, now, by = ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]), ARGV[6]
local cx = redis.call('GET', key_identity_of(ident))
local cl = redis.call('GET', key_identity_of(anchor))
-- A customer merged away keeps its hash for the unmerge; follow it to the one that lives.
if cx then cx = redis.call('HGET', key_customer(cx), 'merged_into') or cx end
if cl then cl = redis.call('HGET', key_customer(cl), 'merged_into') or cl end
if not cx and not cl then
  cx = new_cust
  create(cx, now)
end
local merged = ''
if not cl then
  cl = cx
elseif not cx then
  redis.call('SET', key_identity_of(ident), cl)
  redis.call('SADD', key_customer_identities(cl), ident)
  return {'ok', cl, ''}
elseif cx ~= cl then
  -- Two customers turned out to be one: the newer identity's folds into the anchor's (older).
  local res = merge(cx, cl, now, by)
  if res[1] ~= 'ok' then return {'ok', cx, ''} end
  merged = cx
end
redis.call('SET', key_identity_of(ident), cl)
redis.call('SADD', key_customer_identities(cl), ident)
redis.call('SET', key_identity_of(anchor), cl)
redis.call('SADD', key_customer_identities(cl), anchor)
return {'ok', cl, merged}
