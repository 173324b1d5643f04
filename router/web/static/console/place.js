// The agent's place across reloads (issue 19): the chat they had open, how far they have read each
// chat, and which chats they were already told about. A reload gets every open chat again from
// the server; without this the oldest would open, read chats would count as unread, and the
// "new conversation" toast would fire again. Kept per agent in localStorage (ids and times only,
// and the records tab's view and filters).
const LIMIT = 300; // chats remembered; the oldest are forgotten first
let key = null;
let place = { current: null, read: {}, known: [] };
let known = new Set();
let restoreTo = null; // the chat to reopen after a reload, until it arrives or is given up

export function loadPlace(agentId) {
  key = `kefu.console.place.${agentId}`;
  try {
    const saved = JSON.parse(localStorage.getItem(key) || "null");
    if (saved && typeof saved === "object") place = { current: null, read: {}, known: [], ...saved };
  } catch { /* a damaged entry starts afresh */ }
  known = new Set(place.known);
  restoreTo = place.current;
}

function save() {
  if (!key) return;
  place.known = [...known].slice(-LIMIT);
  const ids = Object.keys(place.read);
  if (ids.length > LIMIT) for (const id of ids.slice(0, ids.length - LIMIT)) delete place.read[id];
  localStorage.setItem(key, JSON.stringify(place));
}

export function rememberCurrent(id) {
  place.current = id;
  restoreTo = null;
  save();
}

// The chat to open by itself when a chat arrives and none is open: the one from before the reload
// when that is this one; "wait" while it may still come; else this one.
export function autoOpen(id) {
  if (!restoreTo || restoreTo === id) return "open";
  return "wait";
}

export function giveUpRestore() { restoreTo = null; }

// Everything up to the newest customer message has been read.
export function markRead(c) {
  let newest = 0;
  for (const m of c.messages.values()) if (m.from === "customer" && m.ts > newest) newest = m.ts;
  if ((place.read[c.conv.id] || 0) >= newest) return;
  place.read[c.conv.id] = newest;
  save();
}

// After a reload: the customer messages newer than what was read, or null when never opened.
export function unreadSinceRead(c) {
  const read = place.read[c.conv.id];
  if (read === undefined) return null;
  let n = 0;
  for (const m of c.messages.values()) if (m.from === "customer" && m.ts > read) n += 1;
  return n;
}

// The records tab's view and its filters (records_filters.js), so a reload lists the same.
export function recordsPlace() {
  return place.records && typeof place.records === "object" ? place.records : null;
}

export function rememberRecords(records) {
  place.records = records;
  save();
}

// True the first time this console hears of a chat, across reloads.
export function firstHeard(id) {
  if (known.has(id)) return false;
  known.add(id);
  save();
  return true;
}
