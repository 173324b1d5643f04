-- Send a frame to an agent: stored for replay, published for whichever process holds the socket.
-- KEYS[1] anchor. ARGV: aid, frame_json. Returns the event id.
return emit(ARGV[1], ARGV[2])
