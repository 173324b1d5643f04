-- Who would take this conversation now, and why: the choice without the assignment. For the
-- benchmark and for explaining a waiting conversation. KEYS[1] anchor.
-- ARGV: cid, pool, skills_json, min_level, now. Returns {chosen or '', record_json}.
DRY = true
local aid, rec = choose(ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), 'preview')
return {aid or '', record_json(rec)}
