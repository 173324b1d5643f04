-- A timer's handler finished: forget it (unless it was rescheduled meanwhile).
-- KEYS[1] anchor. ARGV: timer ids.
for _, tid in ipairs(ARGV) do timer_ack(tid) end
return #ARGV
