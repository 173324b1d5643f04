-- Find or create the customer and their open conversation for one inbound message, and return
-- what the rules need to decide it. Reopens a conversation closed within the reopen window.
-- KEYS[1] anchor ({rt}). ARGV: mid, ident, new_cust, new_cid, now, window, channel, account,
-- chat, name, avatar. Returns {status, cust, cid, state, messages, reopened, prev_pool, segment, tags,
-- product (JSON or '')}.
return resolve_line(ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7], ARGV[8],
  ARGV[9], ARGV[10], ARGV[11] or '')
